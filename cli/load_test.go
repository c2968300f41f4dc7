package cli

import (
	"errors"
	"strings"
	"testing"
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
	d.check()
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
		`setup.yaml:5:16: phone "12" must be 5-20 digits with an optional leading +`,
		`setup.yaml:10:26: no contact "Zed" in this namespace`,
		`setup.yaml:11:22: quietPolicy must be one of DIGEST, DROP, not "SOMETIMES"`,
		`setup.yaml:15:45: "(" is not a regular expression: error parsing regexp: missing closing ): ` + "`^(?:()$`",
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
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
