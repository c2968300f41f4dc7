package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// runCLI runs this binary as `herald args...` with env and stdin, and returns what it printed and
// its exit code.
func runCLI(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := heraldCommand(t, env...)
	cmd.Args = append(cmd.Args, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	err := cmd.Run()
	timer.Stop()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("herald %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// setupFile is a whole setup with every kind of object; its credentials come from the environment.
const setupFile = `namespaces:
  - name: default
    description: the platform team's
    contacts:
      - name: Alice
        phone: "+8613800000001"
        dingtalkUserId: alice01
        webhooks:
          - url: %[1]s/robot/send?access_token=${ALICE_TOKEN}
            secret: ${ALICE_SECRET}
            keyword: SchedulerX
      - name: Bob
        webhooks:
          - url: %[1]s/cgi-bin/webhook/send?key=${BOB_KEY}
      - name: Mallory
        webhooks:
          - url: %[1]s/robot/send?access_token=mallory-robot
            secret: SECwrong-secret
    groups:
      - name: On-call
        description: woken at night
        members: [Alice, Bob]
        quietHours:
          - weekdays: [6, 7]
            start: "22:00"
            end: "07:00"
            timeZone: Asia/Shanghai
      - name: Wrong
        members: [Mallory]
    templates:
      - name: compact
        format: TEXT
        title: '{{ .CommonLabels.alertname }}'
        body: |
          {{ range .Alerts }}{{ .Annotations.summary }} costs $$5
          {{ end }}
    integrations:
      - name: grafana
        kind: GRAFANA
        groups: [On-call]
        signingSecret: ${GRAFANA_SECRET}
        timeZone: Asia/Shanghai
        template: compact
    routes:
      - name: database
        matchers:
          - {label: team, op: EQ, value: db}
        groups: [On-call]
      - name: everything-else
        matchers:
          - {label: severity, op: REGEX, value: "warning|critical"}
        contacts: [Bob]
        continue: true
    silences:
      - matchers:
          - {label: job, op: EQ, value: backup}
        startsAt: %[2]s
        endsAt: %[3]s
        comment: maintenance window
`

func TestCommandLineSendsExportsAndApplies(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		fake := startFake(t, 0)
		alice := fakeplatform.Robot{Platform: senders.DingTalk, Token: "alice-robot", Secret: "SECalice-secret-1", Keywords: []string{"SchedulerX"}}
		bob := fakeplatform.Robot{Platform: senders.WeCom, Token: "bob-robot"}
		mallory := fakeplatform.Robot{Platform: senders.DingTalk, Token: "mallory-robot", Secret: "SECthe-real-one"}
		for _, r := range []fakeplatform.Robot{alice, bob, mallory} {
			fake.AddRobot(r)
		}
		const admin, grafanaSecret = "cli-admin-token-5d2e9a41", "grafana-hmac-secret-77"
		p := launch(t, deliveryEnv(db, "HERALD_ADMIN_TOKEN="+admin, "HERALD_DELIVERY_MAX_AGE=30s")...)
		cliEnv := []string{"HERALD_SERVER=" + p.base, "HERALD_TOKEN=" + admin}
		secretsEnv := append(cliEnv, "ALICE_TOKEN="+alice.Token, "ALICE_SECRET="+alice.Secret, "BOB_KEY="+bob.Token, "GRAFANA_SECRET="+grafanaSecret)

		dir := t.TempDir()
		setup := filepath.Join(dir, "herald.yaml")
		starts := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		writeTestFile(t, setup, fmt.Sprintf(setupFile, fake.URL, starts.Format(time.RFC3339), starts.Add(2*time.Hour).Format(time.RFC3339)))

		// A variable the file needs is unset: nothing changes, and the line says which.
		_, stderr, code := runCLI(t, cliEnv, "", "apply", "-f", setup)
		if code != 2 || !regexp.MustCompile(`herald\.yaml:9:\d+: environment variable ALICE_TOKEN is not set`).MatchString(stderr) {
			t.Fatalf("unset variable: exit %d, %s", code, stderr)
		}
		if exported := export(t, cliEnv); strings.Contains(exported, "Alice") {
			t.Fatalf("a refused file changed the server:\n%s", exported)
		}

		out, stderr, code := runCLI(t, secretsEnv, "", "apply", "-f", setup)
		if code != 0 || !strings.Contains(out, "Plan: 10 to create, 1 to update, 0 to delete, 0 unchanged.") || !strings.Contains(out, "token hrldh_") {
			t.Fatalf("first apply: exit %d\n%s%s", code, out, stderr)
		}
		out, _, code = runCLI(t, secretsEnv, "", "apply", "-f", setup)
		if code != 0 || !strings.Contains(out, "No changes: the server matches") || strings.Contains(out, "  ~ ") || strings.Contains(out, "  + ") {
			t.Fatalf("second apply changed something: exit %d\n%s", code, out)
		}

		// send: delivered through a robot that fails first (exit 0, two attempts), and each refusal's code.
		fake.FailNext(alice.Token, 1, fakeplatform.Fault5xx)
		out, stderr, code = runCLI(t, cliEnv, "the nightly backup failed\nsee the log", "send", "--group", "On-call", "--wait", "30s", "--severity", "critical", "Backup failed", "-")
		if code != 0 || !regexp.MustCompile(`(?m)^SENT\s+DINGTALK\s+2 attempts\s+Alice`).MatchString(out) || !strings.Contains(out, "DELIVERED") {
			t.Fatalf("send --wait: exit %d\n%s%s", code, out, stderr)
		}
		if got := fake.Received(alice.Token); len(got) != 1 || !strings.Contains(got[0].Text, "see the log") {
			t.Fatalf("alice's robot got %+v", got)
		}
		_, stderr, code = runCLI(t, cliEnv, "", "send", "--wait", "30s", "--group", "Wrong", "Refused")
		if code != 5 || !strings.Contains(stderr, "deliveries failed") {
			t.Fatalf("a refused robot: exit %d, %s", code, stderr)
		}
		for _, tc := range []struct {
			env  []string
			args []string
			code int
		}{
			{cliEnv, []string{"send", "--group", "Nobody", "t"}, 2},
			{cliEnv, []string{"send", "--severity", "loud", "--group", "On-call", "t"}, 2},
			{cliEnv, []string{"send"}, 2},
			{[]string{"HERALD_SERVER=" + p.base, "HERALD_TOKEN=not-a-token"}, []string{"send", "--group", "On-call", "t"}, 3},
			{[]string{"HERALD_SERVER=http://127.0.0.1:1", "HERALD_TOKEN=" + admin}, []string{"send", "--group", "On-call", "t"}, 4},
			{cliEnv, []string{"send", "--contact", "Bob", "accepted"}, 0},
		} {
			out, stderr, code := runCLI(t, tc.env, "", tc.args...)
			if code != tc.code {
				t.Errorf("herald %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, stderr)
			}
		}

		// export: no credential written, every one referenced.
		first := export(t, cliEnv)
		for _, secret := range []string{alice.Token, alice.Secret, bob.Token, grafanaSecret, "SECwrong-secret", "mallory-robot"} {
			if strings.Contains(first, secret) {
				t.Fatalf("the export holds the credential %q:\n%s", secret, first)
			}
		}
		for _, ref := range []string{"access_token=${DEFAULT_ALICE_WEBHOOK_1_TOKEN}", "secret: ${DEFAULT_ALICE_WEBHOOK_1_SECRET}",
			"key=${DEFAULT_BOB_WEBHOOK_1_TOKEN}", "signingSecret: ${DEFAULT_GRAFANA_SIGNING_SECRET}", "costs $$5\n"} {
			if !strings.Contains(first, ref) {
				t.Fatalf("the export lacks %q:\n%s", ref, first)
			}
		}
		exported := filepath.Join(dir, "exported.yaml")
		writeTestFile(t, exported, first)

		// A file that does not validate reports each problem's line and column, with a suggestion, and changes nothing.
		broken := filepath.Join(dir, "broken.yaml")
		writeTestFile(t, broken, strings.Replace(strings.Replace(first, "    groups:\n", "    groups:\n      - name: Extra\n        membrs: [Alice]\n", 1),
			"kind: GRAFANA", "kind: PROMETHEUS", 1))
		_, stderr, code = runCLI(t, cliEnv, "", "apply", "-f", broken)
		if code != 2 || !regexp.MustCompile(`broken\.yaml:\d+:9: unknown key "membrs" in a group \(did you mean "members"\?\)`).MatchString(stderr) ||
			!strings.Contains(stderr, "DEFAULT_ALICE_WEBHOOK_1_TOKEN is not set") {
			t.Fatalf("broken file: exit %d\n%s", code, stderr)
		}

		// A robot the server would refuse (its host is outside the allow-list) is a problem at its line before anything changes.
		outsider := filepath.Join(dir, "outsider.yaml")
		writeTestFile(t, outsider, "namespaces:\n  - name: default\n    description: changed\n    contacts:\n      - name: Outsider\n        webhooks:\n"+
			"          - url: https://robot.example.com/robot/send?access_token=x\n            platform: DINGTALK\n")
		_, stderr, code = runCLI(t, cliEnv, "", "apply", "-f", outsider)
		if code != 2 || !regexp.MustCompile(`outsider\.yaml:7:\d+: the server refuses this webhook: .*robot\.example\.com.*allow-list`).MatchString(stderr) ||
			!strings.Contains(stderr, "changes nothing") {
			t.Fatalf("a refused robot in the file: exit %d\n%s", code, stderr)
		}
		if again := export(t, cliEnv); stripHeader(again) != stripHeader(first) {
			t.Fatalf("a file with a refused robot changed the server:\n%s", again)
		}

		// --dry-run shows the deletions --prune would make and makes none.
		bare := filepath.Join(dir, "bare.yaml")
		writeTestFile(t, bare, "namespaces:\n  - name: default\n    description: the platform team's\n")
		out, _, code = runCLI(t, cliEnv, "", "apply", "-f", bare, "--prune", "--dry-run")
		if code != 0 || !strings.Contains(out, "  - contact Alice") || !strings.Contains(out, "  - silence {job=\"backup\"}") || !strings.Contains(out, "Dry run: nothing was changed.") {
			t.Fatalf("dry run: exit %d\n%s", code, out)
		}
		out, _, code = runCLI(t, cliEnv, "", "apply", "-f", bare)
		if code != 0 || !strings.Contains(out, "? contact Alice: not in the file (--prune deletes it)") {
			t.Fatalf("apply without --prune: exit %d\n%s", code, out)
		}
		if again := export(t, cliEnv); stripHeader(again) != stripHeader(first) {
			t.Fatalf("a dry run or an apply without --prune changed the server:\n%s", again)
		}
		out, _, code = runCLI(t, cliEnv, "", "apply", "-f", bare, "--prune")
		if code != 0 || !strings.Contains(out, "Plan: 0 to create, 0 to update, 10 to delete, 1 unchanged.") {
			t.Fatalf("prune: exit %d\n%s", code, out)
		}
		if emptied := export(t, cliEnv); strings.Contains(emptied, "contacts:") || strings.Contains(emptied, "silences:") {
			t.Fatalf("prune left:\n%s", emptied)
		}

		// The export, applied to the emptied server with its credentials in the environment, makes the same setup again.
		roundTrip := append(cliEnv, "DEFAULT_ALICE_WEBHOOK_1_TOKEN="+alice.Token, "DEFAULT_ALICE_WEBHOOK_1_SECRET="+alice.Secret,
			"DEFAULT_BOB_WEBHOOK_1_TOKEN="+bob.Token, "DEFAULT_MALLORY_WEBHOOK_1_TOKEN="+mallory.Token,
			"DEFAULT_MALLORY_WEBHOOK_1_SECRET=SECwrong-secret", "DEFAULT_GRAFANA_SIGNING_SECRET="+grafanaSecret)
		out, stderr, code = runCLI(t, roundTrip, "", "apply", "-f", exported)
		if code != 0 || !strings.Contains(out, "Plan: 10 to create") {
			t.Fatalf("apply the export: exit %d\n%s%s", code, out, stderr)
		}
		if second := export(t, cliEnv); stripHeader(second) != stripHeader(first) {
			t.Fatalf("export → apply → export differs:\n%s\nfirst:\n%s", second, first)
		}
		// The signing secret came back through ${ENV}: the fake checks Alice's signature.
		out, stderr, code = runCLI(t, cliEnv, "", "send", "--contact", "Alice", "--wait", "30s", "After the round trip")
		if code != 0 || !strings.Contains(out, "DELIVERED") {
			t.Fatalf("send after the round trip: exit %d\n%s%s", code, out, stderr)
		}

		// A replica that runs trusted documents only still serves the command line's operations.
		strict := launch(t, deliveryEnv(db, "HERALD_ADMIN_TOKEN="+admin, "HERALD_TRUSTED_DOCUMENTS_STRICT=true")...)
		strictEnv := []string{"HERALD_SERVER=" + strict.base, "HERALD_TOKEN=" + admin}
		if third := export(t, strictEnv); stripHeader(third) != stripHeader(first) {
			t.Fatalf("export from the strict replica differs:\n%s", third)
		}
		if out, stderr, code := runCLI(t, strictEnv, "", "send", "--contact", "Bob", "From the strict replica"); code != 0 {
			t.Fatalf("send to the strict replica: exit %d\n%s%s", code, out, stderr)
		}
	})
}

func export(t *testing.T, env []string) string {
	t.Helper()
	out, stderr, code := runCLI(t, env, "", "export")
	if code != 0 {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	return out
}

// stripHeader drops the export's first line, which says when it was made.
func stripHeader(export string) string {
	_, rest, _ := strings.Cut(export, "\n")
	return rest
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
