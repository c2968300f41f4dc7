package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/models"
	urfave "github.com/urfave/cli/v3"
)

func exportCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "export",
		Usage: "write the server's setup as one YAML file (credentials as ${ENV} references) to stdout or --output",
		Flags: []urfave.Flag{
			&urfave.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "only this namespace (every one the token may use when omitted)"},
			&urfave.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead of stdout"},
		},
		Action: runExport,
	}
}

func applyCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "apply",
		Usage: "make the server match a YAML file: print the diff, then apply it",
		Flags: []urfave.Flag{
			&urfave.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "the YAML file (- for stdin)", Required: true},
			&urfave.BoolFlag{Name: "prune", Usage: "delete what the file's namespaces hold and the file lacks"},
			&urfave.BoolFlag{Name: "dry-run", Usage: "print the diff and change nothing"},
			&urfave.BoolFlag{Name: "reset-secrets", Usage: "send every signing secret in the file again (the server never shows a stored one, so a changed value is not seen otherwise)"},
		},
		Action: runApply,
	}
}

// needAdmin refuses early, and clearly, a token that cannot see webhook URLs whole: below ADMIN they
// come masked, and a file written or compared from them would be wrong.
func needAdmin(ctx context.Context, conn connection, what string) error {
	me, err := client.Viewer(ctx, conn.client(""))
	if err != nil {
		return requestFailed(what, err)
	}
	if me.Me.Role != client.RoleAdmin {
		return fail(ExitAccess, "%s needs an ADMIN token: the token %q is %s, and other roles see webhook URLs masked", what, me.Me.Name, me.Me.Role)
	}
	return nil
}

func runExport(ctx context.Context, cmd *urfave.Command) error {
	conn, err := connect(cmd)
	if err != nil {
		return err
	}
	if err := needAdmin(ctx, conn, "export"); err != nil {
		return err
	}
	namespaces, err := readServer(ctx, conn, cmd.String("namespace"))
	if err != nil {
		return requestFailed("export", err)
	}
	creds, err := readCredentials(ctx, conn.client(""))
	if err != nil {
		return requestFailed("export", err)
	}
	f, variables := exportFile(namespaces, creds)
	out := cmd.Root().Writer
	if path := cmd.String("output"); path != "" {
		file, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return fail(ExitFailed, "export: %v", err)
		}
		defer file.Close()
		out = file
	}
	if err := writeFile(out, f, conn.server, variables, time.Now()); err != nil {
		return fail(ExitFailed, "export: %v", err)
	}
	return nil
}

func runApply(ctx context.Context, cmd *urfave.Command) error {
	path := cmd.String("file")
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(cmd.Root().Reader, maxFileBytes+1))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fail(ExitInput, "apply: %v", err)
	}
	now := time.Now()
	d, err := parse(path, data, os.LookupEnv)
	if err == nil {
		d.check(now)
		err = d.err()
	}
	if err != nil {
		return &exitError{code: ExitInput, err: fmt.Errorf("%w\n%s changes nothing", err, path)}
	}
	conn, err := connect(cmd)
	if err != nil {
		return err
	}
	if err := needAdmin(ctx, conn, "apply"); err != nil {
		return err
	}
	list, err := client.Namespaces(ctx, conn.client(""))
	if err != nil {
		return requestFailed("apply", err)
	}
	onServer := map[string]*remote{}
	for _, ns := range list.Namespaces {
		for _, want := range d.root.Namespaces {
			if strings.EqualFold(ns.Name, want.Name) {
				r, err := readNamespace(ctx, conn.client(ns.Name), ns.Id, ns.Name, ns.Description)
				if err != nil {
					return requestFailed("apply", err)
				}
				onServer[want.Name] = r
			}
		}
	}
	out := cmd.Root().Writer
	pl := &planner{d: d, conn: conn, prune: cmd.Bool("prune"), resetSecret: cmd.Bool("reset-secrets"), now: now, p: &plan{}, out: out}
	for i := range d.root.Namespaces {
		want := &d.root.Namespaces[i]
		pl.namespace(i, want, onServer[want.Name])
	}
	if err := pl.checkWebhooks(ctx); err != nil {
		return err
	}
	if len(pl.p.problems) > 0 {
		d.problems = pl.p.problems
		return &exitError{code: ExitInput, err: fmt.Errorf("%w\n%s changes nothing", d.err(), path)}
	}
	counts := printPlan(out, pl.p)
	if counts[create]+counts[update]+counts[remove] == 0 {
		fmt.Fprintf(out, "No changes: the server matches %s.\n", path)
		return nil
	}
	if cmd.Bool("dry-run") {
		fmt.Fprintln(out, "Dry run: nothing was changed.")
		return nil
	}
	done := 0
	for _, c := range pl.p.changes {
		if c.run == nil || (c.action != create && c.action != update && c.action != remove) {
			continue
		}
		if err := c.run(ctx); err != nil {
			return pl.refused(c, err, done)
		}
		done++
	}
	fmt.Fprintf(out, "Applied: %d created, %d updated, %d deleted.\n", counts[create], counts[update], counts[remove])
	return nil
}

// checkWebhooks has the server judge every webhook the plan would save, as saving the contact
// would (its allow-list, the platform the URL belongs to), so that a robot it would refuse is a
// problem at the file's line before anything changes rather than a refusal halfway through.
func (pl *planner) checkWebhooks(ctx context.Context) error {
	var hooks []client.WebhookInput
	var paths []string
	for _, c := range pl.p.changes {
		if c.action != create && c.action != update {
			continue
		}
		for j, w := range c.webhooks {
			hooks = append(hooks, w)
			paths = append(paths, fmt.Sprintf("%s.webhooks[%d].url", c.path, j))
		}
	}
	// The server takes as many webhooks in one checkWebhooks as ids in one request.
	for start := 0; start < len(hooks); start += models.MaxIDsPerRequest {
		batch := hooks[start:min(start+models.MaxIDsPerRequest, len(hooks))]
		resp, err := client.CheckWebhooks(ctx, pl.conn.client(""), batch)
		if client.Code(err) == "GRAPHQL_VALIDATION_FAILED" {
			// A server older than checkWebhooks: it judges each webhook when the contact is saved.
			return nil
		}
		if err != nil {
			return requestFailed("apply", err)
		}
		for i, check := range resp.CheckWebhooks {
			if check.Error != nil {
				pl.p.problems = append(pl.p.problems, pl.problemAt(paths[start+i], "the server refuses this webhook: %s", *check.Error))
			}
		}
	}
	return nil
}

// refused reports a change the server refused at the file's line for the field it names.
func (pl *planner) refused(c *change, err error, done int) error {
	where := c.path
	if field := client.Field(err); field != "" && c.path != "" {
		where = join(c.path, strings.TrimPrefix(field, "input."))
	}
	at := ""
	if n := pl.d.node(where); n != nil && c.path != "" {
		at = fmt.Sprintf("%s:%d:%d: ", pl.d.file, n.Line, n.Column)
	}
	failed := requestFailed(fmt.Sprintf("%s%s %s %q in namespace %s", at, verbs[c.action], c.kind, c.name, c.namespace), err)
	exit := failed.(*exitError)
	exit.err = fmt.Errorf("%w\n%d changes before it were applied; apply again once it is fixed (an apply changes only what differs)", exit.err, done)
	return exit
}

var verbs = map[action]string{create: "create", update: "update", remove: "delete"}

// printPlan writes the diff, one line per object, and the totals; it returns the counts by action.
func printPlan(w io.Writer, p *plan) map[action]int {
	counts := map[action]int{}
	namespace := ""
	for _, c := range p.changes {
		if c.namespace != namespace {
			namespace = c.namespace
			fmt.Fprintf(w, "namespace %s\n", namespace)
		}
		line := fmt.Sprintf("  %s %s %s", actionMarks[c.action], c.kind, c.name)
		if c.detail != "" {
			line += ": " + c.detail
		}
		fmt.Fprintln(w, line)
		counts[c.action]++
	}
	summary := fmt.Sprintf("Plan: %d to create, %d to update, %d to delete, %d unchanged", counts[create], counts[update], counts[remove], counts[unchanged])
	if counts[kept] > 0 {
		summary += fmt.Sprintf(", %d not in the file (kept; --prune deletes them)", counts[kept])
	}
	if counts[skipped] > 0 {
		summary += fmt.Sprintf(", %d skipped", counts[skipped])
	}
	fmt.Fprintln(w, summary+".")
	return counts
}
