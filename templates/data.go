package templates

import (
	"maps"
	"slices"
	"time"
)

// Data is what every template renders: Alertmanager's notification data, so that a template
// written for Alertmanager works unchanged, and Herald's own fields beside it. sendAlert and the
// GENERIC kind fill it too, with one alert made from the message.
type Data struct {
	// Alertmanager's fields, as its templates know them.
	Receiver          string
	Status            string // "firing" or "resolved"
	Alerts            Alerts
	GroupLabels       KV
	CommonLabels      KV
	CommonAnnotations KV
	ExternalURL       string
	GroupKey          string
	// TruncatedAlerts are alerts the source left out (its max_alerts).
	TruncatedAlerts int

	// Herald's fields.
	Title    string
	Content  string
	Severity string // INFO, WARNING or CRITICAL
	Resolved bool
	Links    []Link
	// Namespace is the name of the namespace the alert is sent in.
	Namespace string
	// Kind is the integration kind (ALERTMANAGER, GRAFANA, GENERIC) or SEND_ALERT.
	Kind string
	// Integration is the name of the integration whose hook took the notification; "" for sendAlert.
	Integration string
	// Message is Grafana's rendered message when its template is the user's own.
	Message string
	// SilenceURL silences the group in Alertmanager's UI.
	SilenceURL string
	// TimeZone is the zone the times are in (the integration's).
	TimeZone string
	// Omitted counts alerts left out of Alerts so that the message fits.
	Omitted int
}

// Alert is one alert of a notification, as Alertmanager's templates see it, with Grafana's fields.
type Alert struct {
	Status       string
	Labels       KV
	Annotations  KV
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	Fingerprint  string
	// Grafana's additions.
	DashboardURL string
	PanelURL     string
	SilenceURL   string
	ImageURL     string
	Values       map[string]float64
}

// Alerts is a list of alerts; .Firing and .Resolved select by status, as in Alertmanager.
type Alerts []Alert

// Firing returns the alerts that are firing.
func (as Alerts) Firing() Alerts { return as.withStatus("firing") }

// Resolved returns the alerts that are resolved.
func (as Alerts) Resolved() Alerts { return as.withStatus("resolved") }

func (as Alerts) withStatus(s string) Alerts {
	out := Alerts{}
	for _, a := range as {
		if a.Status == s {
			out = append(out, a)
		}
	}
	return out
}

// KV is a label or annotation set, with Alertmanager's methods.
type KV map[string]string

// Pair is one label or annotation.
type Pair struct{ Name, Value string }

// Pairs is a list of pairs, sorted by name where KV makes it.
type Pairs []Pair

// Names returns the pairs' names in order.
func (ps Pairs) Names() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// Values returns the pairs' values in order.
func (ps Pairs) Values() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}

// SortedPairs returns the pairs sorted by name.
func (kv KV) SortedPairs() Pairs {
	out := make(Pairs, 0, len(kv))
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		out = append(out, Pair{Name: k, Value: kv[k]})
	}
	return out
}

// Names returns the sorted names.
func (kv KV) Names() []string { return kv.SortedPairs().Names() }

// Values returns the values sorted by their names.
func (kv KV) Values() []string { return kv.SortedPairs().Values() }

// Remove returns a copy without the named keys.
func (kv KV) Remove(keys []string) KV {
	out := make(KV, len(kv))
	for k, v := range kv {
		if !slices.Contains(keys, k) {
			out[k] = v
		}
	}
	return out
}

// Link is a labelled URL: a card's button, a link in markdown.
type Link struct{ Text, URL string }

// Has reports whether the set has the name (Herald's addition to Alertmanager's methods).
func (kv KV) Has(name string) bool {
	_, ok := kv[name]
	return ok
}
