package templates

import (
	"fmt"
	"testing"
)

// BenchmarkRender measures what a notification's message costs to compose: the built-in layout and
// Alertmanager's default template, over groups of 2 and 100 alerts.
func BenchmarkRender(b *testing.B) {
	am, err := Parse(`{{ template "__subject" . }}`, alertmanagerDefaults)
	if err != nil {
		b.Fatal(err)
	}
	builtin, _ := BuiltinByID(BuiltinAlertmanager)
	for _, n := range []int{2, 100} {
		d := amData()
		for len(d.Alerts) < n {
			a := d.Alerts[0]
			a.Labels = KV{"alertname": "DiskFull", "instance": fmt.Sprintf("db%d:9100", len(d.Alerts)), "job": "node"}
			d.Alerts = append(d.Alerts, a)
		}
		d.Alerts = d.Alerts[:n]
		b.Run(fmt.Sprintf("builtin/alerts=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := builtin.Render(d, MaxBodyBytes); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("alertmanager-default/alerts=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := am.Render(d, MaxBodyBytes); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parse/alertmanager-default", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse(`{{ template "__subject" . }}`, alertmanagerDefaults); err != nil {
				b.Fatal(err)
			}
		}
	})
}
