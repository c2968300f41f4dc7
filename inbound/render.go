package inbound

import (
	"bytes"
	"embed"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/senders"
)

//go:embed templates/notification.md.tmpl
var templateFiles embed.FS

// The default message of an Alertmanager or Grafana notification is a text/template, so that its
// shape reads as what it renders.
var notificationTemplate = template.Must(template.ParseFS(templateFiles, "templates/notification.md.tmpl"))

// view is what the template renders.
type view struct {
	Message   string
	Firing    []alertView
	Resolved  []alertView
	Omitted   int
	Truncated int
	// SilenceURL silences the whole group in Alertmanager's UI.
	SilenceURL string
}

type alertView struct {
	Heading     string
	Description string
	// Labels are the alert's labels other than the group's, which the title already names.
	Labels   []delivery.Label
	StartsAt string
	EndsAt   string
	Values   string
	Links    []link
	ImageURL string
}

type link struct{ Text, URL string }

// rendered is an alert as a notification becomes one.
type rendered struct {
	title    string
	content  string
	severity senders.Severity
	labels   delivery.Labels
}

// timeLayout shows a time to people, with the zone's abbreviation.
const timeLayout = "2006-01-02 15:04:05 MST"

// locations caches time zones: loading one reads the zone database.
var locations sync.Map

func location(name string) *time.Location {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC // validated when the integration was saved; the database may differ on this machine
	}
	locations.Store(name, l)
	return l
}

// render makes the alert of a notification whose alerts are those kept (resolved ones dropped
// when the integration does not send them).
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

	v := view{Truncated: n.TruncatedAlerts}
	if grafana && !isGrafanaDefaultMessage(n.Message) {
		// At most half the content, so that the alerts always have room after it.
		v.Message, _ = senders.Truncate(fenceless(strings.TrimSpace(n.Message)), delivery.MaxAlertContentBytes/2)
	}
	if firing > 0 && linkTarget(n.ExternalURL) != "" && !grafana {
		v.SilenceURL = silenceURL(n.ExternalURL, n.CommonLabels)
	}
	views := make([]alertView, len(alerts))
	for i, a := range alerts {
		views[i] = viewOf(a, n.GroupLabels, loc)
	}
	r.content = fitContent(v, views)
	return r
}

// fitContent renders as many alerts as fit in an alert's content, saying how many did not.
func fitContent(v view, views []alertView) string {
	shown := len(views)
	for {
		v.Firing, v.Resolved, v.Omitted = nil, nil, len(views)-shown
		for _, a := range views[:shown] {
			if a.EndsAt == "" {
				v.Firing = append(v.Firing, a)
			} else {
				v.Resolved = append(v.Resolved, a)
			}
		}
		var b bytes.Buffer
		if err := notificationTemplate.Execute(&b, v); err != nil {
			// The template is fixed and its data plain strings: an error is a bug, and the alert
			// still goes out with its title.
			return "(the message could not be rendered: " + err.Error() + ")"
		}
		if b.Len() <= delivery.MaxAlertContentBytes || shown == 0 {
			return strings.ToValidUTF8(b.String(), "\uFFFD")
		}
		// Shrink in proportion to the overflow, at least by one alert.
		next := shown * delivery.MaxAlertContentBytes / b.Len()
		shown = min(next, shown-1)
	}
}

func viewOf(a sourceAlert, group map[string]string, loc *time.Location) alertView {
	v := alertView{
		Heading:     oneLine(firstNonEmpty(a.Annotations["summary"], a.Labels["alertname"], "alert")),
		Description: fenceless(strings.TrimSpace(a.Annotations["description"])),
		StartsAt:    a.StartsAt.In(loc).Format(timeLayout),
		ImageURL:    linkTarget(a.ImageURL),
	}
	if a.resolved() {
		v.EndsAt = a.EndsAt.In(loc).Format(timeLayout)
	}
	for _, name := range slices.Sorted(maps.Keys(a.Labels)) {
		if _, shared := group[name]; shared || name == "alertname" {
			continue
		}
		v.Labels = append(v.Labels, delivery.Label{Name: oneLine(name), Value: oneLine(a.Labels[name])})
	}
	if len(a.Values) > 0 {
		refs := slices.Sorted(maps.Keys(a.Values))
		parts := make([]string, len(refs))
		for i, ref := range refs {
			parts[i] = ref + "=" + strconv.FormatFloat(a.Values[ref], 'g', -1, 64)
		}
		v.Values = strings.Join(parts, ", ")
	}
	for _, l := range []link{
		{"Source", a.GeneratorURL}, {"Dashboard", a.DashboardURL}, {"Panel", a.PanelURL}, {"Silence", a.SilenceURL},
	} {
		if l.URL = linkTarget(l.URL); l.URL != "" {
			v.Links = append(v.Links, l)
		}
	}
	return v
}

// A source's text goes into markdown that Herald lays out: what could break that layout is
// defused, and nothing else of the text changes.

// oneLine makes text that heads a line or fills a list item a single line: a newline in it would
// end the bold heading or the item, and "# …" after one would become a heading of its own.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// fenceless breaks code fences in free text: an unclosed one would swallow everything after it,
// the labels, links and silence link included.
func fenceless(s string) string { return strings.ReplaceAll(s, "```", "`\u200b``") }

// linkTarget is u as a markdown link target, or "" when it is not an http(s) URL: the parentheses
// and spaces that would end the target early are percent-encoded.
func linkTarget(u string) string {
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return ""
	}
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(parsed.String())
}

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
