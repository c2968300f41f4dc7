package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/heraldhq/herald/client"
	urfave "github.com/urfave/cli/v3"
)

// maxContentBytes is sendAlert's bound on content; stdin is read one byte past it to tell.
const maxContentBytes = 64 << 10

func sendCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "send",
		Usage:     "send an alert; prints its id (exit 0 accepted, 2 bad input, 3 token, 4 Herald unavailable, 5 not delivered with --wait)",
		ArgsUsage: "TITLE [CONTENT | -]",
		Flags: []urfave.Flag{
			namespaceFlag(),
			&urfave.StringSliceFlag{Name: "group", Aliases: []string{"g"}, Usage: "a group to send to, by name (repeatable)"},
			&urfave.StringSliceFlag{Name: "contact", Aliases: []string{"c"}, Usage: "a contact to send to, by name (repeatable)"},
			&urfave.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "a label name=value (repeatable); without --group and --contact the routes pick the recipients by the labels"},
			&urfave.StringFlag{Name: "severity", Aliases: []string{"s"}, Usage: "info, warning or critical", Value: "warning"},
			&urfave.StringFlag{Name: "format", Usage: "text, markdown or card", Value: "markdown"},
			&urfave.StringFlag{Name: "idempotency-key", Usage: "a key: sending it again returns the first alert and sends nothing"},
			&urfave.BoolFlag{Name: "resolved", Usage: "a notice that the problem is over"},
			&urfave.BoolFlag{Name: "mention", Usage: "@ each targeted contact"},
			&urfave.DurationFlag{Name: "wait", Usage: "wait up to this long for every robot's outcome, print each, and exit 5 unless all got it"},
		},
		Action: runSend,
	}
}

func runSend(ctx context.Context, cmd *urfave.Command) error {
	conn, err := connect(cmd)
	if err != nil {
		return err
	}
	input, err := sendInput(cmd)
	if err != nil {
		return err
	}
	c := conn.client(cmd.String("namespace"))
	sent, err := client.SendAlert(ctx, c, input)
	if err != nil {
		return requestFailed("send", err)
	}
	out := cmd.Root().Writer
	fmt.Fprintln(out, sent.SendAlert.Id)
	wait := cmd.Duration("wait")
	if wait <= 0 {
		return nil
	}
	alert, err := awaitOutcome(ctx, c, sent.SendAlert.Id, wait)
	if err != nil {
		return err
	}
	printOutcome(out, alert)
	switch {
	case alert.DeliveryCounts.Pending > 0:
		return fail(ExitNotDelivered, "alert %s: %d of %d deliveries still pending after %s", alert.Id, alert.DeliveryCounts.Pending, alert.DeliveryCounts.Total, wait)
	case alert.DeliveryCounts.Failed > 0:
		return fail(ExitNotDelivered, "alert %s is %s: %d of %d deliveries failed", alert.Id, alert.Status, alert.DeliveryCounts.Failed, alert.DeliveryCounts.Total)
	}
	return nil
}

func sendInput(cmd *urfave.Command) (client.SendAlertInput, error) {
	args := cmd.Args().Slice()
	if len(args) < 1 || len(args) > 2 {
		return client.SendAlertInput{}, fail(ExitInput, "send takes TITLE and optionally CONTENT (- reads it from stdin), not %d arguments", len(args))
	}
	input := client.SendAlertInput{Title: args[0], Content: args[0]}
	if len(args) == 2 {
		input.Content = args[1]
		if args[1] == "-" {
			b, err := io.ReadAll(io.LimitReader(cmd.Root().Reader, maxContentBytes+1))
			if err != nil {
				return input, fail(ExitFailed, "read content from stdin: %v", err)
			}
			if len(b) > maxContentBytes {
				return input, fail(ExitInput, "content from stdin is over %d KiB", maxContentBytes>>10)
			}
			input.Content = string(b)
		}
	}
	severity, err := oneOf("severity", cmd.String("severity"), client.AllSeverity)
	if err != nil {
		return input, err
	}
	format, err := oneOf("format", cmd.String("format"), client.AllMessageFormat)
	if err != nil {
		return input, err
	}
	input.Severity, input.Format = &severity, &format
	input.GroupNames = cmd.StringSlice("group")
	input.ContactNames = cmd.StringSlice("contact")
	for _, label := range cmd.StringSlice("label") {
		name, value, ok := strings.Cut(label, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return input, fail(ExitInput, "label %q must be name=value", label)
		}
		input.Labels = append(input.Labels, client.LabelInput{Name: strings.TrimSpace(name), Value: value})
	}
	if key := cmd.String("idempotency-key"); key != "" {
		input.IdempotencyKey = &key
	}
	if cmd.Bool("resolved") {
		yes := true
		input.Resolved = &yes
	}
	if cmd.Bool("mention") {
		yes := true
		input.MentionContacts = &yes
	}
	return input, nil
}

// oneOf reads an enum flag in any letter case.
func oneOf[E ~string](flag, value string, all []E) (E, error) {
	names := make([]string, len(all))
	for i, e := range all {
		if strings.EqualFold(string(e), value) {
			return e, nil
		}
		names[i] = strings.ToLower(string(e))
	}
	return "", fail(ExitInput, "--%s must be one of %s, not %q", flag, strings.Join(names, ", "), value)
}

type outcome = client.AlertOutcomeAlert

// awaitOutcome polls the alert until it is settled or the wait is over. Settled is the alert's own
// final status, set just after its last delivery's result commits, and not the delivery counts
// reaching zero pending, which come a moment before it. Held deliveries wait for quiet hours, which
// may be hours away, so once only they are left the wait ends too.
func awaitOutcome(ctx context.Context, c graphql.Client, id string, wait time.Duration) (*outcome, error) {
	deadline := time.Now().Add(wait)
	delay := 200 * time.Millisecond
	for {
		resp, err := client.AlertOutcome(ctx, c, id)
		if err != nil {
			return nil, requestFailed("wait for alert "+id, err)
		}
		if resp.Alert == nil {
			return nil, fail(ExitFailed, "alert %s is gone", id)
		}
		if settled(resp.Alert) || !time.Now().Before(deadline) {
			return resp.Alert, nil
		}
		select {
		case <-ctx.Done():
			return nil, fail(ExitFailed, "wait for alert %s: %v", id, ctx.Err())
		case <-time.After(min(delay, time.Until(deadline))):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

func settled(a *outcome) bool {
	if a.Status != client.AlertStatusPending {
		return true
	}
	onlyHeldLeft := a.DeliveryCounts.Held > 0 && a.DeliveryCounts.Pending == 0
	// The counts and the list are read by separate statements: a list still showing a pending
	// delivery would be printed as one, so wait for both to agree.
	for _, d := range a.Deliveries {
		onlyHeldLeft = onlyHeldLeft && d.Status != client.DeliveryStatusPending
	}
	return onlyHeldLeft
}

func printOutcome(w io.Writer, a *outcome) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, d := range a.Deliveries {
		detail := strings.Join(d.ContactNames, ", ")
		if d.LastError != nil && *d.LastError != "" {
			detail += ": " + *d.LastError
		}
		if d.Status == client.DeliveryStatusHeld && d.NextAttemptAt != nil {
			detail += " (held by quiet hours until " + d.NextAttemptAt.UTC().Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d attempts\t%s\n", d.Status, d.Platform, len(d.Attempts), detail)
	}
	fmt.Fprintf(tw, "%s\t%d sent, %d failed, %d held, %d dropped of %d\n", a.Status, a.DeliveryCounts.Sent, a.DeliveryCounts.Failed, a.DeliveryCounts.Held, a.DeliveryCounts.Dropped, a.DeliveryCounts.Total)
	tw.Flush()
}
