package inbound

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
)

// rendered is an alert as a notification becomes one: what Herald decides in code (the title from
// the group, the severity, labels and links) and the template data its content is rendered from.
type rendered struct {
	title    string
	severity senders.Severity
	labels   delivery.Labels
	links    []senders.Link
	data     *templates.Data
}

func location(name string) *time.Location {
	l, err := templates.Location(name)
	if err != nil {
		return time.UTC // validated when the integration was saved; the database may differ on this machine
	}
	return l
}

// render makes the alert of a notification whose alerts are those kept (resolved ones dropped
// when the integration does not send them); the content is the template's, rendered on accept.
func render(n *notification, alerts []sourceAlert, tz string, grafana bool) rendered {
	loc := location(tz)
	firing := 0
	for _, a := range alerts {
		if !a.resolved() {
			firing++
		}
	}
	status := "RESOLVED"
	if firing > 0 {
		status = "FIRING:" + strconv.Itoa(firing)
	}
	name := oneLine(alertName(n, alerts))
	r := rendered{severity: severityOf(alerts)}
	title := strings.TrimSpace(n.Title)
	if !grafana || title == "" {
		title = "[" + status + "] " + name
		if others := otherGroupValues(n.GroupLabels); others != "" {
			title += " (" + others + ")"
		}
	}
	r.title = fitTitle(title)
	common := map[string]string{}
	for k, v := range n.CommonLabels {
		common[k] = v
	}
	if common["alertname"] == "" {
		common["alertname"] = name
	}
	r.labels = delivery.FitLabels(common, "alertname")

	d := &templates.Data{
		Receiver: n.Receiver, Status: n.Status, GroupLabels: kv(n.GroupLabels), CommonLabels: kv(n.CommonLabels),
		CommonAnnotations: kv(n.CommonAnnotations), ExternalURL: n.ExternalURL, GroupKey: n.GroupKey,
		TruncatedAlerts: n.TruncatedAlerts, Title: r.title, Severity: string(r.severity), Resolved: firing == 0,
		TimeZone: loc.String(), Kind: "ALERTMANAGER",
	}
	if grafana {
		d.Kind = "GRAFANA"
		if !isGrafanaDefaultMessage(n.Message) {
			// At most half the content, so that the alerts always have room after it.
			d.Message, _ = senders.Truncate(strings.TrimSpace(n.Message), delivery.MaxAlertContentBytes/2)
		}
	}
	if firing > 0 && linkTarget(n.ExternalURL) != "" && !grafana {
		d.SilenceURL = silenceURL(n.ExternalURL, n.CommonLabels)
	}
	for _, a := range alerts {
		d.Alerts = append(d.Alerts, templates.Alert{
			Status: a.Status, Labels: kv(a.Labels), Annotations: kv(a.Annotations),
			StartsAt: a.StartsAt.In(loc), EndsAt: a.EndsAt.In(loc), GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
			DashboardURL: a.DashboardURL, PanelURL: a.PanelURL, SilenceURL: a.SilenceURL, ImageURL: a.ImageURL, Values: a.Values,
		})
	}
	r.links = messageLinks(alerts, d.SilenceURL)
	for _, l := range r.links {
		d.Links = append(d.Links, templates.Link{Text: l.Text, URL: l.URL})
	}
	d.Content = d.Message
	r.data = d
	return r
}

// messageLinks are the buttons of a notification's message: its source, its dashboard and a
// silence, from the first alert that has each (a firing one first).
func messageLinks(alerts []sourceAlert, groupSilence string) []senders.Link {
	ordered := append(firingOnly(alerts), resolvedOnly(alerts)...)
	first := func(pick func(sourceAlert) string) string {
		for _, a := range ordered {
			if u := linkTarget(pick(a)); u != "" {
				return u
			}
		}
		return ""
	}
	var links []senders.Link
	for _, l := range []senders.Link{
		{Text: "Source", URL: first(func(a sourceAlert) string { return a.GeneratorURL })},
		{Text: "Dashboard", URL: first(func(a sourceAlert) string { return a.DashboardURL })},
		{Text: "Silence", URL: firstNonEmpty(linkTarget(groupSilence), first(func(a sourceAlert) string { return a.SilenceURL }))},
	} {
		// A link no platform can show (a PromQL expression past 2048 bytes) is left to the
		// content; refusing the notification for it would lose the alert.
		if l.URL != "" && senders.UsableURL(l.URL) {
			links = append(links, l)
		}
	}
	return links
}

func resolvedOnly(alerts []sourceAlert) []sourceAlert {
	var out []sourceAlert
	for _, a := range alerts {
		if a.resolved() {
			out = append(out, a)
		}
	}
	return out
}

func kv(m map[string]string) templates.KV {
	out := make(templates.KV, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// A source's text is defused by the templates package's helpers, which users' templates have too.
var (
	oneLine    = senders.OneLine
	linkTarget = templates.LinkTarget
)

// alertName is the group's alertname, or the names of its alerts when they differ.
func alertName(n *notification, alerts []sourceAlert) string {
	if name := firstNonEmpty(n.GroupLabels["alertname"], n.CommonLabels["alertname"]); name != "" {
		return name
	}
	var names []string
	for _, a := range alerts {
		if name := a.Labels["alertname"]; name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return firstNonEmpty(n.Receiver, "alert")
	}
	return strings.Join(names, ", ")
}

// otherGroupValues are the values of the group labels besides alertname, by label name.
func otherGroupValues(group map[string]string) string {
	var values []string
	for _, name := range slices.Sorted(maps.Keys(group)) {
		if name != "alertname" && group[name] != "" {
			values = append(values, group[name])
		}
	}
	return strings.Join(values, ", ")
}

// severityOf is the highest severity among the alerts' severity labels.
func severityOf(alerts []sourceAlert) senders.Severity {
	s := senders.Info
	for _, a := range alerts {
		if x := severityOfLabel(a.Labels["severity"]); x.Rank() > s.Rank() {
			s = x
		}
	}
	return s
}

func severityOfLabel(v string) senders.Severity {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "critical":
		return senders.Critical
	case "warning":
		return senders.Warning
	default:
		return senders.Info
	}
}

// silenceURL opens Alertmanager's new-silence form filtered to the labels, as its UI builds it.
func silenceURL(externalURL string, labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	return strings.TrimRight(externalURL, "/") + "/#/silences/new?filter=" + strings.ReplaceAll(url.QueryEscape(labelString(labels)), "+", "%20")
}

// isGrafanaDefaultMessage recognises the message of Grafana's default template, which lists the
// alerts that Herald's own content lists already; a message the user templated is kept.
func isGrafanaDefaultMessage(m string) bool {
	m = strings.TrimSpace(m)
	return m == "" || strings.HasPrefix(m, "**Firing**") || strings.HasPrefix(m, "**Resolved**")
}

func fitTitle(t string) string {
	t = oneLine(strings.ToValidUTF8(t, "\uFFFD"))
	if utf8.RuneCountInString(t) > delivery.MaxAlertTitleLength {
		t = string([]rune(t)[:delivery.MaxAlertTitleLength-1]) + "…"
	}
	return t
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
