package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, text string, env map[string]string) error {
	t.Helper()
	d, err := parse("setup.yaml", []byte(text), func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		return err
	}
	d.check(time.Now())
	return d.err()
}

func TestEveryProblemIsReportedAtItsLineAndColumn(t *testing.T) {
	err := load(t, `namespaces:
  - name: default
    contacts:
      - name: Alice
        phone: "12"
        webhooks:
          - url: https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}
            secrte: x
    groups:
      - name: On-call
        members: [Alice, Zed]
        quietPolicy: SOMETIMES
    routes:
      - name: r
        matchers:
          - {label: team, op: REGEX, value: "("}
        groups: [On-call]
`, nil)
	var problems *Problems
	if !errors.As(err, &problems) {
		t.Fatalf("want problems, got %v", err)
	}
	// The shape is checked first: a misspelt key stops the file before its values are judged.
	want := []string{
		`setup.yaml:7:18: environment variable TOKEN is not set`,
		`setup.yaml:8:13: unknown key "secrte" in a webhook (did you mean "secret"?)`,
	}
	if got := problems.Error(); got != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}

	err = load(t, `namespaces:
  - name: default
    contacts:
      - name: Alice
        phone: "12"
        webhooks:
          - url: https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}
    groups:
      - name: On-call
        members: [Alice, Zed]
        quietPolicy: SOMETIMES
    routes:
      - name: r
        matchers:
          - {label: team, op: REGEX, value: "("}
        groups: [On-call]
`, map[string]string{"TOKEN": "t"})
	want = []string{
		`setup.yaml:5:16: phone must be 5-20 characters: digits with an optional leading '+'`,
		`setup.yaml:10:26: no contact "Zed" in this namespace`,
		`setup.yaml:11:22: quietPolicy must be one of DIGEST, DROP, not "SOMETIMES"`,
		`setup.yaml:15:45: not a regular expression (RE2 syntax): missing closing ): ` + "`(`",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

// TestTheServersRulesJudgeTheFile: what the server would refuse half-way through an apply is
// refused before anything changes, in the server's words.
func TestTheServersRulesJudgeTheFile(t *testing.T) {
	err := load(t, `namespaces:
  - name: default
    contacts:
      - name: Alice
        dingtalkUserId: all
        webhooks:
          - url: https://example.com/hooks/alice
      - name: Bob
        webhooks:
          - url: https://oapi.dingtalk.com/robot/send?access_token=b
            keyword: "`+strings.Repeat("k", 65)+`"
    groups:
      - name: On-call
        description: "`+strings.Repeat("d", 513)+`"
        quietHours:
          - {start: "24:00", end: "07:00"}
    silences:
      - matchers:
          - {label: job, op: regex, value: ".*"}
        endsAt: 2099-01-01T00:00:00Z
        comment: everything, for ever
`, nil)
	want := []string{
		`setup.yaml:5:25: "all" would mention everyone; use mentionAll for that`,
		`setup.yaml:7:18: webhook url https://example.com/hooks/alice: cannot tell the platform from this URL; give platform explicitly`,
		`setup.yaml:11:22: keyword must be at most 64 printable characters`,
		`setup.yaml:14:22: description is 513 characters long; at most 512 are allowed`,
		`setup.yaml:16:21: 24:00 is only an end; a window from midnight starts at 00:00`,
		`setup.yaml:19:11: at least one matcher must not match an empty value, or the silence would mute every alert`,
		`setup.yaml:20:17: a silence lasts at most 366 days; for longer, change the routes`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

// TestTheFileIsNormalisedAsTheServerStoresIt: what the server would store differently (weekdays
// out of order, no zone) is not a change at every apply.
func TestTheFileIsNormalisedAsTheServerStoresIt(t *testing.T) {
	d, err := parse("f", []byte(`namespaces:
  - name: Default
    groups:
      - name: g
        quietHours:
          - {weekdays: [7, 6, 6], start: "22:00", end: "07:00"}
    routes:
      - name: r
        matchers: [{label: team, op: eq, value: db}]
        groups: [g]
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	d.check(time.Now())
	if err := d.err(); err != nil {
		t.Fatal(err)
	}
	ns := d.root.Namespaces[0]
	w := ns.Groups[0].QuietHours[0]
	if ns.Name != "default" || fmt.Sprint(w.Weekdays) != "[6 7]" || w.TimeZone != "UTC" || ns.Groups[0].QuietPolicy != "DIGEST" || ns.Routes[0].Matchers[0].Op != "EQ" {
		t.Fatalf("normalised to %+v", ns)
	}
}

func TestValuesOfTheWrongKindAndBrokenYAMLAreRefused(t *testing.T) {
	for text, want := range map[string]string{
		"namespaces: {name: x}\n":      "setup.yaml:1:13: namespaces must be a list, not a mapping",
		"namespaces:\n  - name: [a]\n": "setup.yaml:2:11: name must be a string, not a list",
		"namespaces:\n  - name: x\n    routes:\n      - name: r\n        continue: maybe\n": `setup.yaml:5:19: continue must be true or false, not "maybe"`,
		"namespaces:\n  - name: x\n   bad\n":                                                "setup.yaml:1:1: did not find expected '-' indicator",
		"":                                                                                  "setup.yaml: the file is empty: it needs namespaces",
		"namespaces: []\n":                                                                  "setup.yaml:1:1: the file names no namespace",
	} {
		err := load(t, text, nil)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: got %v, want %s…", text, err, want)
		}
	}
}

func TestDollarsAreLiteralWhenDoubled(t *testing.T) {
	d, err := parse("f", []byte("namespaces:\n  - name: x\n    description: costs $$5 and ${A}\n"), func(string) (string, bool) { return "ok", true })
	if err != nil {
		t.Fatal(err)
	}
	if got := d.root.Namespaces[0].Description; got != "costs $5 and ok" {
		t.Fatalf("description %q", got)
	}
}

func TestACredentialInAURLBecomesAReference(t *testing.T) {
	token := "access_token"
	creds := credentials{"DINGTALK": {TokenParam: &token}, "LARK": {WebhookPath: "/open-apis/bot/v2/hook/"}}
	for _, tc := range []struct{ platform, in, want string }{
		{"DINGTALK", "https://oapi.dingtalk.com/robot/send?access_token=abc&x=1", "https://oapi.dingtalk.com/robot/send?access_token=${T}&x=1"},
		{"LARK", "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", "https://open.feishu.cn/open-apis/bot/v2/hook/${T}"},
	} {
		if got, ok := creds.withReference(tc.platform, tc.in, "T"); !ok || got != tc.want {
			t.Errorf("%s: got %s (%v), want %s", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := creds.withReference("DINGTALK", "https://oapi.dingtalk.com/robot/send", "T"); ok {
		t.Error("a URL without its token got a reference")
	}
}
