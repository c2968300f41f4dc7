package templates

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/senders"
)

// amData is the notification of shared/inbound.md's example as Alertmanager's templates see it.
func amData() *Data {
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	return &Data{
		Receiver: "herald", Status: "firing", ExternalURL: "http://am:9093",
		GroupLabels:  KV{"alertname": "DiskFull"},
		CommonLabels: KV{"alertname": "DiskFull", "job": "node"}, CommonAnnotations: KV{},
		Alerts: Alerts{
			{Status: "firing", Labels: KV{"alertname": "DiskFull", "instance": "db1:9100", "job": "node"},
				Annotations: KV{"summary": "db1 95%"}, StartsAt: start, GeneratorURL: "http://prom:9090/graph"},
			{Status: "firing", Labels: KV{"alertname": "DiskFull", "instance": "db2:9100", "job": "node"},
				Annotations: KV{"summary": "db2 97%"}, StartsAt: start.Add(30 * time.Second)},
			{Status: "resolved", Labels: KV{"alertname": "DiskFull", "instance": "db3:9100", "job": "node"},
				Annotations: KV{"summary": "db3 ok"}, StartsAt: start, EndsAt: start.Add(time.Hour)},
		},
		Title: "[FIRING:2] DiskFull", Severity: "CRITICAL",
	}
}

// Alertmanager's own default.tmpl definitions (template/default.tmpl), pasted as a user would.
const alertmanagerDefaults = `{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
{{- if gt (len .Alerts.Firing) 0 }}Alerts Firing:
{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}
{{- if gt (len .Alerts.Resolved) 0 }}Alerts Resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}`

func TestAlertmanagersDefaultTemplateRendersUnchanged(t *testing.T) {
	tpl, err := Parse(`{{ template "__subject" . }}`, alertmanagerDefaults)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Execute(amData())
	if err != nil {
		t.Fatal(err)
	}
	if want := "[FIRING:2] DiskFull (node)"; out.Title != want {
		t.Errorf("title %q, want %q", out.Title, want)
	}
	want := `
Alerts Firing:
Labels:
 - alertname = DiskFull
 - instance = db1:9100
 - job = node
Annotations:
 - summary = db1 95%
Source: http://prom:9090/graph
Labels:
 - alertname = DiskFull
 - instance = db2:9100
 - job = node
Annotations:
 - summary = db2 97%
Source: 
Alerts Resolved:
Labels:
 - alertname = DiskFull
 - instance = db3:9100
 - job = node
Annotations:
 - summary = db3 ok
Source: 
`
	if out.Body != want {
		t.Errorf("body:\n%s\nwant:\n%s", out.Body, want)
	}
}

func TestAlertmanagerFunctionsAndHeraldFieldsAreThere(t *testing.T) {
	tpl, err := Parse(`{{ .Title }}`, `{{ .CommonLabels.job | toUpper }}|{{ "a-b" | reReplaceAll "-" "+" }}|{{ match "^db" "db1" }}|`+
		`{{ (index .Alerts 0).StartsAt | date "15:04" }}|{{ .Severity | lower }}|{{ stringSlice "x" "y" | join "," }}|{{ trimSpace "  z " }}|`+
		`{{ ((index .Alerts 0).StartsAt | tz "Asia/Shanghai").Format "15:04" }}|{{ .CommonLabels.Has "job" }}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.Execute(amData())
	if err != nil {
		t.Fatal(err)
	}
	if want := "NODE|a+b|true|08:00|critical|x,y|z|16:00|true"; out.Body != want {
		t.Errorf("body %q, want %q", out.Body, want)
	}
}

func TestParseErrorsSayLineAndColumn(t *testing.T) {
	for _, c := range []struct {
		body, field string
		line, col   int
	}{
		{"first line\nsecond {{ nope .Title }}", "body", 2, 11},
		{"{{ if .Title }}\nunclosed", "body", 2, 1},
		{"a\nb\n  {{ .Title }\n", "body", 3, 13},
		{"{{ .A }} {{ .B }", "body", 1, 16},
		{"{{ .A }} {{ end }} {{ .B }}", "body", 1, 10},
		{"{{ with .A }}{{ $x := 1 }}{{ end }}{{ $x }}", "body", 1, 39},
		{"{{ if .A }}x{{ else }}y{{ else }}z{{ end }}", "body", 1, 24},
		{"ok\n{{ .Labels.alert-name }} {{ .B }}", "body", 2, 17},
	} {
		_, err := Parse("{{ .Title }}", c.body)
		var syntax *SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("%q: error %v is not a SyntaxError", c.body, err)
			continue
		}
		if syntax.Field != c.field || syntax.Line != c.line || syntax.Column != c.col {
			t.Errorf("%q: %s:%d:%d (%s), want %s:%d:%d", c.body, syntax.Field, syntax.Line, syntax.Column, syntax.Msg, c.field, c.line, c.col)
		}
	}
	_, err := Parse("{{ .Title ", "ok")
	var syntax *SyntaxError
	if !errors.As(err, &syntax) || syntax.Field != "title" || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a broken title: %v", err)
	}
}

func TestRecursiveTemplatesAreRefusedWhereTheyRecurse(t *testing.T) {
	for _, body := range []string{
		`{{ define "x" }}{{ template "x" . }}{{ end }}{{ template "x" . }}`,
		"{{ define \"a\" }}{{ range 1 }}{{ template \"b\" $ }}{{ end }}{{ end }}\n{{ define \"b\" }}  {{ template \"a\" . }}{{ end }}",
	} {
		_, err := Parse("{{ .Title }}", body)
		var syntax *SyntaxError
		if !errors.As(err, &syntax) || !strings.Contains(syntax.Msg, "recursion is not allowed") {
			t.Errorf("%q: %v", body, err)
			continue
		}
		if strings.Contains(body, "\n") && (syntax.Line != 2 || syntax.Column != 31) {
			t.Errorf("the recursion is reported at %d:%d, want 2:31 (the name called)", syntax.Line, syntax.Column)
		}
	}
}

func TestFunctionsThatReachOutsideAreNotThere(t *testing.T) {
	for _, f := range []string{"env", "expandenv", "getHostByName", "randAlphaNum", "uuidv4", "bcrypt", "genPrivateKey", "osBase"} {
		if _, err := Parse("t", "{{ "+f+" }}"); err == nil || !strings.Contains(err.Error(), "not defined") {
			t.Errorf("%s: %v, want not defined", f, err)
		}
	}
}

func TestExecutionIsBounded(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"loops forever", `{{ range 2000000000 }}{{ range 2000000000 }}{{ end }}{{ end }}`},
		{"writes 10 MB", `{{ range 10000000 }}x{{ end }}`},
		{"repeats 10 MB at once", `{{ repeat 10000000 "x" }}`},
		{"doubles a string", `{{ $s := "xxxxxxxx" }}{{ range 40 }}{{ $s = print $s $s }}{{ end }}{{ len $s }}`},
		{"doubles a list", `{{ $l := list 1 2 }}{{ range 40 }}{{ $l = concat $l $l }}{{ end }}{{ len $l }}`},
		{"pads a number", `{{ printf "%900000000d" 1 }}`},
		{"indents a lot", `{{ indent 100000000 "x" }}`},
		{"replaces everywhere", `{{ replace "" (repeat 60000 "y") (repeat 60000 "x") }}`},
		{"counts far", `{{ range until 100000000 }}{{ end }}`},
		{"shares a list to explode its printing", `{{ $x := list 1 }}{{ range 40 }}{{ $x = append $x $x }}{{ end }}{{ toJson $x }}`},
		{"makes a dict hold itself", `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ print $d }}`},
		{"calls without looping", strings.Repeat(`{{ $_ := repeat 1000 (repeat 1000 "x") }}`, 1500)},
		{"indents past the int range", `{{ indent 140737488355328 (repeat 131071 "\n") }}`},
		{"steps past the int range", `{{ untilStep -9000000000000000000 9000000000000000000 1 }}`},
		{"prints a megabyte many times", `{{ $s := repeat 1000000 "x" }}{{ print` + strings.Repeat(" $s", 2000) + ` }}`},
		{"pads through an argument index", `{{ printf "` + strings.Repeat("%[1]*d", 300) + `" 1000000 1 }}`},
		{"pads through a wide argument", `{{ printf "%*d" 1000000 1 }}`},
		{"escapes and escapes again", `{{ $s := repeat 1000000 "&" }}{{ range 60 }}{{ $s = html $s }}{{ end }}`},
		{"prints shared copies of the data", `{{ $l := list . }}{{ range 12 }}{{ $l = concat $l $l }}{{ end }}{{ toJson $l }}`},
		{"matches a long pattern on a long text", `{{ regexFind (print (repeat 5000 "(a|b)") "c") (repeat 100000 "a") }}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := Parse("{{ .Title }}", c.body)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = tpl.Render(amData(), MaxBodyBytes)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %s", elapsed)
			}
			if !errors.Is(err, ErrBound) {
				t.Errorf("error %v, want an execution bound", err)
			}
		})
	}
}

func TestQuadraticFunctionsAreLinear(t *testing.T) {
	tpl := MustParse("t", `{{ len (uniq (until 10000)) }} {{ len (uniq (list (list 1) (list 1) (dict "a" 1))) }}`)
	start := time.Now()
	out, err := tpl.Execute(amData())
	if err != nil || out.Body != "10000 2" {
		t.Fatalf("%q, %v", out.Body, err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("uniq of 10,000 took %s", elapsed)
	}
}

func TestABigGroupIsRenderedWithFewerAlerts(t *testing.T) {
	d := amData()
	for len(d.Alerts) < 4000 {
		d.Alerts = append(d.Alerts, d.Alerts[0])
	}
	tpl := MustParse("{{ .Title }}", `{{ range .Alerts }}{{ .Annotations.summary }} {{ repeat 20 "." }}
{{ end }}{{ with .Omitted }}{{ . }} not shown{{ end }}`)
	// The shrinking under test, not the time bound: the race detector slows rendering tenfold.
	out, err := tpl.render(d, MaxBodyBytes, 5*time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Body) > MaxBodyBytes || !strings.HasSuffix(out.Body, " not shown") || out.Title != d.Title {
		t.Errorf("%d bytes, title %q, ends %q", len(out.Body), out.Title, out.Body[len(out.Body)-30:])
	}
}

func TestBuiltinsRenderTheirSamplesWithin(t *testing.T) {
	for _, b := range Builtins {
		d := amData()
		d.Content = "the content"
		out, err := b.Render(d, MaxBodyBytes)
		if err != nil {
			t.Errorf("%s: %v", b.ID, err)
			continue
		}
		if out.Title != d.Title || strings.TrimSpace(out.Body) == "" {
			t.Errorf("%s: title %q body %q", b.ID, out.Title, out.Body)
		}
	}
}

func TestTheBuiltinLayoutCutsOneHugeAlertInsteadOfFailing(t *testing.T) {
	d := amData()
	d.Alerts = d.Alerts[:1]
	d.Alerts[0].Annotations = KV{"summary": "db1 95%", "description": strings.Repeat("very long ", 10000)}
	b, _ := BuiltinByID(BuiltinAlertmanager)
	out, err := b.Render(d, MaxBodyBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Body) > MaxBodyBytes || !strings.Contains(out.Body, "**db1 95%**") || !strings.HasSuffix(out.Body, senders.TruncationMarker) {
		t.Errorf("%d bytes, starts %q, ends %q", len(out.Body), out.Body[:40], out.Body[len(out.Body)-40:])
	}
	// A user's template gets no such help: it failed, and the alert goes in the default layout.
	if _, err := MustParse("t", "{{ range 100000 }}xxxxxxxxxx{{ end }}").Render(d, MaxBodyBytes); !errors.Is(err, ErrBound) {
		t.Errorf("a user's oversize template: %v", err)
	}
}

func TestConcurrentRendersShareNothing(t *testing.T) {
	tpl := MustParse("{{ .Title }}", `{{ range .Alerts }}{{ .Labels.instance }};{{ end }}`)
	done := make(chan error)
	for range 8 {
		go func() {
			out, err := tpl.Execute(amData())
			if err == nil && out.Body != "db1:9100;db2:9100;db3:9100;" {
				err = errors.New(out.Body)
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
