package templates

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzTemplates: whatever an admin writes, parsing and rendering end within the bounds, without a
// panic, and a failure is either a syntax error with a position or an execution error.
func FuzzTemplates(f *testing.F) {
	for _, seed := range []string{
		alertmanagerDefaults,
		`{{ range .Alerts }}{{ .Labels.instance }}{{ end }}`,
		`{{ define "x" }}{{ template "x" . }}{{ end }}{{ template "x" . }}`,
		`{{ range 99999999 }}{{ . }}{{ end }}`,
		`{{ repeat 99 (repeat 99 "ab") | upper | quote }}`,
		`{{ printf "%*d" 999999999 1 }}`,
		`{{ $x := list }}{{ range 50 }}{{ $x = append $x $x }}{{ end }}`,
		`{{ .CommonLabels.Remove .GroupLabels.Names | toJson }}`,
		`{{ with .Nope }}{{ end }}{{ index .Alerts 9 }}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tpl, err := Parse("{{ .Title }}", body)
		if err != nil {
			var syntax *SyntaxError
			if !errors.As(err, &syntax) || syntax.Line < 1 || syntax.Column < 1 {
				t.Fatalf("parse error without a position: %v", err)
			}
			return
		}
		start := time.Now()
		out, err := tpl.Render(amData(), MaxBodyBytes)
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("rendering took %s", elapsed)
		}
		if err == nil && (len(out.Body) > MaxBodyBytes || strings.TrimSpace(out.Body) == "") {
			t.Fatalf("output of %d bytes passed", len(out.Body))
		}
	})
}
