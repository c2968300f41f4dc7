// Package inbound receives alert sources' webhooks (Alertmanager, Grafana, plain JSON) at
// /hooks/{id} and turns each notification into one alert of the outbox. Its answers are what the
// sources' retry logic reads: 2xx only once the alert is committed, 4xx only for input that will
// never succeed, 503 for Herald's own trouble.
package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
)

// Route is the hook endpoint's pattern; the id is the integration's.
const Route = "POST /hooks/{id}"

// MaxBodyBytes bounds a notification. Alertmanager's largest groups stay well below it.
const MaxBodyBytes = 1 << 20

// DefaultRepeatWindow is how long a repeated Alertmanager or Grafana notification stays a
// duplicate before it is sent again as a reminder.
const DefaultRepeatWindow = 24 * time.Hour

// Seconds a source is asked to wait before it retries.
const (
	retryAfterUnavailable = 10
	retryAfterDraining    = 5
)

// Outcomes, as the metric counts them.
const (
	Accepted     = "accepted"
	Duplicate    = "duplicate"
	Skipped      = "skipped"
	BadRequest   = "bad_request"
	Unauthorized = "unauthorized"
	TooLarge     = "too_large"
	NotJSON      = "unsupported_media_type"
	Unprocessed  = "unprocessable"
	Unavailable  = "unavailable"
)

// Waker nudges the dispatcher once an alert is committed.
type Waker interface{ Wake() }

// Config is what the hook endpoint needs.
type Config struct {
	Store  *models.Store
	Outbox *delivery.Outbox
	Waker  Waker
	// RepeatWindow is DefaultRepeatWindow when zero.
	RepeatWindow time.Duration
	// Observe counts each notification by integration kind, namespace and outcome; may be nil.
	Observe func(kind, namespace, outcome string)
	Logger  *slog.Logger
	// ReportSQLStatements adds sqlStatements to every answer, as the GraphQL endpoint does with
	// HERALD_REPORT_SQL_STATEMENTS, so that benchmarks can hold the count.
	ReportSQLStatements bool
}

// Handler serves Route.
type Handler struct {
	cfg      Config
	draining atomic.Bool
	now      func() time.Time
}

// New returns the hook endpoint.
func New(cfg Config) *Handler {
	if cfg.RepeatWindow <= 0 {
		cfg.RepeatWindow = DefaultRepeatWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Observe == nil {
		cfg.Observe = func(string, string, string) {}
	}
	return &Handler{cfg: cfg, now: time.Now}
}

// Drain makes every later notification a 503, so that sources retry against another replica or
// after the restart while this one shuts down.
func (h *Handler) Drain() { h.draining.Store(true) }

// answer is one response to a source.
type answer struct {
	status     int
	outcome    string
	body       map[string]any
	retryAfter int
}

// refusal answers with an error, which is also what the log says of it: it never holds the
// token or the query string.
func refusal(status int, outcome, message string) answer {
	return answer{status: status, outcome: outcome, body: map[string]any{"error": message}}
}

func unavailable(retryAfter int, message string) answer {
	a := refusal(http.StatusServiceUnavailable, Unavailable, message)
	a.retryAfter = retryAfter
	return a
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var seen hookRequest
	var statements *atomic.Int64
	if h.cfg.ReportSQLStatements {
		var ctx context.Context
		ctx, statements = models.WithStatementCounter(r.Context())
		r = r.WithContext(ctx)
	}
	a := h.serve(r, id, &seen)
	if statements != nil {
		a.body["sqlStatements"] = statements.Load()
	}
	kind, namespace := seen.kind, seen.namespace
	h.cfg.Observe(kind, namespace, a.outcome)
	if a.status >= 400 {
		level := slog.LevelWarn
		if a.status == http.StatusUnauthorized {
			level = slog.LevelInfo // anyone can knock; a misconfigured source shows up as a pattern
		}
		// The path and remote address, never the URL: a source that only takes a URL carries
		// its token in the query string.
		h.cfg.Logger.Log(r.Context(), level, "hook refused", "integration", id, "kind", kind,
			"namespace", namespace, "status", a.status, "reason", a.body["error"], "remote", r.RemoteAddr)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if a.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	if !seen.bodyRead {
		// Refused before its body was read: closing the connection spares reading the rest, which
		// net/http would otherwise wait for, from a client as slow as it likes, before answering.
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

// hookToken is the token from Authorization: Bearer, or from ?token= for sources that only take a URL.
func hookToken(r *http.Request) (string, error) {
	t := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		token, err := auth.ParseBearer(h)
		// A source may send credentials of its own kind (Grafana's basic auth) beside a URL token.
		if err == nil || t == "" {
			return token, err
		}
	}
	if t == "" {
		return "", auth.ErrNoToken
	}
	if len(t) > 512 {
		return "", auth.ErrMalformedToken
	}
	return t, nil
}

// hookRequest is what serve learned about a request, for the metric, the log and the answer.
type hookRequest struct {
	kind, namespace string
	bodyRead        bool
}

func (h *Handler) serve(r *http.Request, id string, seen *hookRequest) answer {
	if h.draining.Load() {
		return unavailable(retryAfterDraining, "Herald is shutting down; retry shortly")
	}
	ctx := r.Context()
	token, err := hookToken(r)
	if err != nil {
		return refusal(http.StatusUnauthorized, Unauthorized, "send the integration's token as Authorization: Bearer <token> (or ?token=<token>)")
	}
	i, err := h.cfg.Store.IntegrationForHook(ctx, id, auth.HashToken(token))
	if errors.Is(err, models.ErrHookRefused) {
		return refusal(http.StatusUnauthorized, Unauthorized, "unknown integration or wrong token")
	}
	if err != nil {
		return h.trouble(r, "look up integration", err)
	}
	seen.kind = string(i.Kind)
	ns, err := h.cfg.Store.NamespaceByID(ctx, i.NamespaceID)
	if err != nil {
		return h.trouble(r, "look up namespace", err)
	}
	seen.namespace = ns.Name
	ctx = models.WithNamespace(ctx, ns)
	if !isJSON(r.Header.Get("Content-Type")) {
		return refusal(http.StatusUnsupportedMediaType, NotJSON, "the body must be JSON: send Content-Type: application/json")
	}
	tooLarge := refusal(http.StatusRequestEntityTooLarge, TooLarge, fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
	if r.ContentLength > MaxBodyBytes {
		return tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var overLimit *http.MaxBytesError
	if errors.As(err, &overLimit) {
		return tooLarge
	}
	if err != nil {
		// Cut off or too slow: the notification itself may be fine, so the source may retry.
		return unavailable(retryAfterUnavailable, "the body could not be read")
	}
	seen.bodyRead = true
	if i.Kind == models.IntegrationGrafana && i.HasSigningSecret() {
		secret, err := h.cfg.Store.OpenSecret(i.SigningSecret)
		if err != nil {
			return h.trouble(r, "open signing secret", err)
		}
		if why := verifySignature(r.Header, secret, body, h.now()); why != "" {
			return refusal(http.StatusUnauthorized, Unauthorized, why)
		}
	}
	if err := h.cfg.Store.NoteReceived(ctx, i, h.now().UTC()); err != nil {
		h.cfg.Logger.WarnContext(ctx, "note integration use", "integration", id, "error", err)
	}
	in, skip, err := h.alertFor(i, body)
	var bad badRequest
	switch {
	case errors.As(err, &bad):
		return refusal(http.StatusBadRequest, BadRequest, bad.msg)
	case err != nil:
		return h.trouble(r, "read notification", err)
	case skip:
		return answer{status: http.StatusOK, outcome: Skipped, body: map[string]any{"skipped": "resolved"}}
	}
	alert, created, err := h.cfg.Outbox.Accept(ctx, in)
	if err != nil {
		return h.refusedAlert(r, err)
	}
	alertID := models.FormatID(alert.ID)
	if !created {
		return answer{status: http.StatusOK, outcome: Duplicate, body: map[string]any{"alertId": alertID, "duplicate": true}}
	}
	h.cfg.Waker.Wake()
	return answer{status: http.StatusAccepted, outcome: Accepted, body: map[string]any{"alertId": alertID, "status": string(alert.Status)}}
}

// refusedAlert answers an alert the outbox did not take. Only a field of the source's own input is
// its fault; an integration that reaches no one is the operator's (422, which Alertmanager does
// not retry but posts again at its next flush); anything else is Herald's, so the source retries.
func (h *Handler) refusedAlert(r *http.Request, err error) answer {
	e, ok := models.AsError(err)
	switch {
	case ok && e.Kind == models.KindInvalid && e.Field != "":
		return refusal(http.StatusBadRequest, BadRequest, e.Field+": "+e.Message)
	case ok && e.Kind == models.KindInvalid:
		return refusal(http.StatusUnprocessableEntity, Unprocessed,
			"the integration reaches no one: "+e.Message+"; give it a group with members, or a contact")
	case ok:
		// Any other refusal of a well-formed notification (its namespace deleted meanwhile) is not
		// the source's to fix: it is retried.
		return unavailable(retryAfterUnavailable, "the notification could not be accepted: "+e.Message)
	}
	return h.trouble(r, "accept alert", err)
}

// trouble answers Herald's own failure: 503 with Retry-After, never a 2xx without a commit and
// never a 4xx, so that the source keeps the notification and retries.
func (h *Handler) trouble(r *http.Request, what string, err error) answer {
	if models.IsUnavailable(err) {
		return unavailable(retryAfterUnavailable, models.UnavailableMessage)
	}
	h.cfg.Logger.ErrorContext(r.Context(), "hook: "+what, "integration", r.PathValue("id"), "error", err)
	return unavailable(retryAfterUnavailable, "Herald could not store the notification; retry shortly")
}

// isJSON accepts application/json and any application/*+json type.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// alertFor turns a notification into the alert to accept; skip is true for an all-resolved one
// that the integration does not send.
func (h *Handler) alertFor(i *models.Integration, body []byte) (in delivery.AlertInput, skip bool, err error) {
	in = delivery.AlertInput{
		Format:          senders.Markdown,
		Recipients:      models.RecipientQuery{GroupIDs: models.FormatIDs(i.GroupIDs), ContactIDs: models.FormatIDs(i.ContactIDs), Known: true},
		MentionContacts: i.MentionContacts,
		SourceID:        &i.ID,
		SourceName:      i.Name,
	}
	if i.RouteByLabels {
		// Its own recipients are the fallback when no route matches; without any, no match is refused.
		in.RouteByLabels = true
		if len(i.GroupIDs)+len(i.ContactIDs) > 0 {
			own := in.Recipients
			in.Fallback = &own
		}
		in.Recipients = models.RecipientQuery{}
	}
	if i.TemplateID != nil {
		id := models.FormatID(*i.TemplateID)
		in.TemplateID = &id
	}
	if i.Kind == models.IntegrationGeneric {
		return h.genericAlert(i, body, in)
	}
	version, grafana := alertmanagerVersion, i.Kind == models.IntegrationGrafana
	if grafana {
		version = grafanaVersion
	}
	n, err := parseNotification(body, version)
	if err != nil {
		return in, false, err
	}
	alerts := n.Alerts
	if !i.SendResolved {
		alerts = firingOnly(alerts)
		if len(alerts) == 0 {
			return in, true, nil
		}
	}
	// The status follows the alerts kept, whatever the payload claims: what the title counts and
	// whether the message reads resolved must agree.
	n.Status = "firing"
	if len(firingOnly(alerts)) == 0 {
		n.Status = "resolved"
	}
	r := render(n, alerts, i.TimeZone, grafana)
	key := dedupeKey(i.ID, n, alerts)
	in.Title, in.Severity, in.Labels, in.Links, in.Data = r.title, r.severity, r.labels, r.links, r.data
	in.Default = defaultLayout(i.Kind)
	in.Resolved = n.Status == "resolved"
	in.IdempotencyKey, in.RepeatAfter = &key, h.cfg.RepeatWindow
	return in, false, nil
}

func (h *Handler) genericAlert(i *models.Integration, body []byte, in delivery.AlertInput) (delivery.AlertInput, bool, error) {
	var g generic
	if err := decodeJSON(body, &g); err != nil {
		return in, false, err
	}
	if g.Title == nil || strings.TrimSpace(*g.Title) == "" {
		return in, false, refuse(`title is required: {"title": "...", "content": "..."}`)
	}
	switch strings.ToLower(g.Status) {
	case "", "firing":
	case "resolved":
		if !i.SendResolved {
			return in, true, nil
		}
		in.Resolved = true
	default:
		return in, false, refuse("status is %q; want firing or resolved", g.Status)
	}
	switch strings.ToLower(g.Severity) {
	case "", "info":
		in.Severity = senders.Info
	case "warning":
		in.Severity = senders.Warning
	case "critical":
		in.Severity = senders.Critical
	default:
		return in, false, refuse("severity is %q; want critical, warning or info", g.Severity)
	}
	switch strings.ToLower(g.Format) {
	case "", "markdown":
	case "text":
		in.Format = senders.Text
	default:
		return in, false, refuse("format is %q; want markdown or text", g.Format)
	}
	in.Title, in.Content = *g.Title, g.Content
	if strings.TrimSpace(in.Content) == "" {
		in.Content = strings.TrimSpace(*g.Title)
	}
	for _, name := range slices.Sorted(maps.Keys(g.Labels)) {
		in.Labels = append(in.Labels, delivery.Label{Name: name, Value: g.Labels[name]})
	}
	if g.IdempotencyKey != nil {
		// Scoped to the integration: two sources sending "build-42" are two alerts.
		prefix := hookKey(i.ID) + "key:"
		if n := utf8.RuneCountInString(*g.IdempotencyKey); n == 0 || n > delivery.MaxIdempotencyKeyLength-len(prefix) {
			return in, false, refuse("idempotencyKey must be 1 to %d characters", delivery.MaxIdempotencyKeyLength-len(prefix))
		}
		key := prefix + *g.IdempotencyKey
		in.IdempotencyKey = &key
	}
	return in, false, nil
}

func firingOnly(alerts []sourceAlert) []sourceAlert {
	var out []sourceAlert
	for _, a := range alerts {
		if !a.resolved() {
			out = append(out, a)
		}
	}
	return out
}

// defaultLayout is the built-in template of an integration kind; nil for GENERIC, whose message
// is sent as given.
func defaultLayout(kind models.IntegrationKind) *templates.Builtin {
	var id string
	switch kind {
	case models.IntegrationAlertmanager:
		id = templates.BuiltinAlertmanager
	case models.IntegrationGrafana:
		id = templates.BuiltinGrafana
	default:
		return nil
	}
	b, _ := templates.BuiltinByID(id)
	return &b
}
