package inbound

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/delivery"
)

// notification is Alertmanager's webhook body (version "4"), which Grafana's webhook contact point
// extends (version "1"): the fields Herald reads, and nothing it ignores.
type notification struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []sourceAlert     `json:"alerts"`

	// Grafana's additions.
	Title   string `json:"title"`
	State   string `json:"state"`
	Message string `json:"message"`
}

type sourceAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     time.Time          `json:"startsAt"`
	EndsAt       time.Time          `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	ImageURL     string             `json:"imageURL"`
	Values       map[string]float64 `json:"values"`
}

func (a sourceAlert) resolved() bool { return a.Status == "resolved" }

// The payload versions each source sends.
const (
	alertmanagerVersion = "4"
	grafanaVersion      = "1"
)

// badRequest is input that will never succeed: the source must not retry it.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func refuse(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

// decodeJSON reads body into v, describing a type mismatch by the field's JSON path.
func decodeJSON(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var timeErr *time.ParseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return refuse("the body must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return refuse("%s must be %s, not a JSON %s", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return refuse("the body is not JSON: %s at byte %d", syntaxErr.Error(), syntaxErr.Offset)
	case errors.As(err, &timeErr):
		return refuse("a time is not RFC 3339 (%q)", timeErr.Value)
	default:
		return refuse("the body is not a notification: %v", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	default:
		return "a number"
	}
}

// parseNotification checks an Alertmanager or Grafana body: the version its integration expects,
// a status, a group key and at least one alert.
func parseNotification(body []byte, version string) (*notification, error) {
	var n notification
	if err := decodeJSON(body, &n); err != nil {
		return nil, err
	}
	if n.Version != version {
		switch {
		case version == alertmanagerVersion && n.Version == grafanaVersion:
			return nil, refuse("version is %q, Grafana's: this integration is ALERTMANAGER, which takes version %q; create a GRAFANA integration for Grafana", n.Version, version)
		case version == grafanaVersion && n.Version == alertmanagerVersion:
			return nil, refuse("version is %q, Alertmanager's: this integration is GRAFANA, which takes version %q; create an ALERTMANAGER integration for Alertmanager", n.Version, version)
		default:
			return nil, refuse("version is %q; this integration takes version %q", n.Version, version)
		}
	}
	if n.Status != "firing" && n.Status != "resolved" {
		return nil, refuse("status is %q; want firing or resolved", n.Status)
	}
	if strings.TrimSpace(n.GroupKey) == "" {
		return nil, refuse("groupKey is missing: it identifies the group, so that repeats are recognised")
	}
	if len(n.Alerts) == 0 {
		return nil, refuse("alerts is empty: a notification holds at least one alert")
	}
	for i, a := range n.Alerts {
		if a.Status != "firing" && a.Status != "resolved" {
			return nil, refuse("alerts[%d].status is %q; want firing or resolved", i, a.Status)
		}
	}
	return &n, nil
}

// dedupeKey identifies a notification's content for the integration: its group, its status and the
// set of its alerts, each by fingerprint, start and end. A retry, a repeat and an HA twin's copy
// have the same key; a changed set or a resolve has another.
func dedupeKey(integrationID uint, n *notification, alerts []sourceAlert) string {
	set := make([]string, len(alerts))
	for i, a := range alerts {
		fp := a.Fingerprint
		if fp == "" {
			// A source without fingerprints (a hand-made payload): the labels identify the alert.
			fp = labelString(a.Labels)
		}
		set[i] = fp + "\xff" + a.StartsAt.UTC().Format(time.RFC3339Nano) + "\xff" + a.EndsAt.UTC().Format(time.RFC3339Nano)
	}
	slices.Sort(set)
	set = slices.Compact(set)
	h := sha256.New()
	fmt.Fprintf(h, "%d\xfe%s\xfe%s\xfe", integrationID, n.GroupKey, n.Status)
	h.Write([]byte(strings.Join(set, "\xfe")))
	return hookKey(integrationID) + hex.EncodeToString(h.Sum(nil))[:40]
}

// hookKey starts every idempotency key of one integration's alerts.
func hookKey(integrationID uint) string {
	return delivery.HookKeyPrefix + strconv.FormatUint(uint64(integrationID), 10) + ":"
}

// labelString is labels as Prometheus writes them: {a="1", b="2"}, sorted by name.
func labelString(labels map[string]string) string {
	names := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.Quote(labels[n])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// generic is the GENERIC kind's body: Herald's own shape for curl, cron and CI.
type generic struct {
	Title          *string           `json:"title"`
	Content        string            `json:"content"`
	Severity       string            `json:"severity"`
	Format         string            `json:"format"`
	Status         string            `json:"status"`
	Labels         map[string]string `json:"labels"`
	IdempotencyKey *string           `json:"idempotencyKey"`
}
