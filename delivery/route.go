package delivery

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// Who gets an alert is decided once, when it is accepted: the routes its labels meet (when it names
// no recipients), the silence that mutes it, and, per delivery, the quiet hours that hold it. The
// decision is kept on the alert and its deliveries, so history shows why; testRoute makes the same
// decision without storing anything.

// Decision is what routing and silences make of an alert's labels.
type Decision struct {
	// Labels are the labels matched: the alert's, with severity (and integration) added.
	Labels Labels
	// Routes are the routes that matched, in the order tried.
	Routes []*models.Route
	// Silence is the active silence that mutes the alert, the one ending last; nil when none.
	Silence *models.Silence
	// Silences are the silences matching the labels that have not ended, active and pending.
	Silences []*models.Silence
	// Now is the database clock the decision was made at.
	Now time.Time
}

// matchLabels are the labels routes and silences match: the alert's, with severity in lower case
// when the alert has no such label, and integration when it came through a hook.
func matchLabels(labels Labels, severity senders.Severity, integration string) Labels {
	out := slices.Clone(labels)
	add := func(name, value string) {
		if !slices.ContainsFunc(out, func(l Label) bool { return l.Name == name }) {
			out = append(out, Label{Name: name, Value: value})
		}
	}
	add("severity", strings.ToLower(string(severity)))
	if integration != "" {
		add("integration", integration)
	}
	slices.SortFunc(out, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func (l Labels) asMap() map[string]string {
	m := make(map[string]string, len(l))
	for _, x := range l {
		m[x.Name] = x.Value
	}
	return m
}

// decide reads, inside tx, the routes and the silences the labels meet at now.
func decide(tx *gorm.DB, labels Labels, now time.Time) (Decision, error) {
	d := Decision{Labels: labels, Now: now}
	m := labels.asMap()
	var err error
	if d.Routes, err = models.MatchingRoutes(tx, m); err != nil {
		return d, err
	}
	if d.Silences, d.Silence, err = matchingSilences(tx, m, now); err != nil {
		return d, err
	}
	return d, nil
}

// matchingSilences returns the silences that have not ended and match, and the active one that
// ends last.
func matchingSilences(tx *gorm.DB, labels map[string]string, now time.Time) ([]*models.Silence, *models.Silence, error) {
	live, err := models.LiveSilences(tx, now)
	if err != nil {
		return nil, nil, err
	}
	var matching []*models.Silence
	var active *models.Silence
	for _, s := range live {
		if !s.Matchers.Matches(labels) {
			continue
		}
		matching = append(matching, s)
		if active == nil && s.State(now) == models.SilenceActive {
			active = s // live silences come ending last first
		}
	}
	return matching, active, nil
}

// Recipients are the matched routes' groups and contacts, as a recipient query.
func (d Decision) Recipients() models.RecipientQuery {
	q := models.RecipientQuery{Known: true}
	for _, r := range d.Routes {
		q.GroupIDs = append(q.GroupIDs, models.FormatIDs(r.GroupIDs)...)
		q.ContactIDs = append(q.ContactIDs, models.FormatIDs(r.ContactIDs)...)
	}
	slices.Sort(q.GroupIDs)
	q.GroupIDs = slices.Compact(q.GroupIDs)
	slices.Sort(q.ContactIDs)
	q.ContactIDs = slices.Compact(q.ContactIDs)
	return q
}

// routeIDs are the matched routes' ids in the order tried.
func (d Decision) routeIDs() []uint {
	ids := make([]uint, len(d.Routes))
	for i, r := range d.Routes {
		ids[i] = r.ID
	}
	return ids
}

// routed reports whether the alert is routed by its labels: a sendAlert that names no recipients,
// or an integration's that routes by labels (one whose recipients were all deleted is not routed:
// its flag is off).
func (in AlertInput) routed() bool {
	if in.SourceID != nil {
		return in.RouteByLabels
	}
	q := in.Recipients
	return len(q.ContactIDs)+len(q.GroupIDs)+len(q.ContactNames)+len(q.GroupNames) == 0
}

// route decides the alert's recipients from its labels when it is routed: the matching routes'
// groups and contacts, and the first matching route's template when the alert names none of its own
// (an integration's template gives way to a route's). No route matching is BAD_USER_INPUT, unless
// the input has a fallback (an integration's own recipients).
func (o *Outbox) route(ctx context.Context, in AlertInput) (AlertInput, error) {
	var err error
	if in.Labels, err = cleanLabels(in.Labels); err != nil {
		return in, err
	}
	if in.Severity == "" {
		in.Severity = senders.Info
	}
	if !in.routed() {
		return in, nil
	}
	db := o.db.WithContext(ctx)
	routes, err := models.MatchingRoutes(db, matchLabels(in.Labels, in.Severity, in.SourceName).asMap())
	if err != nil {
		return in, wrapAlertErr("route alert", err)
	}
	d := Decision{Routes: routes}
	if len(routes) == 0 {
		if in.Fallback == nil {
			return in, models.Invalid("labels", "no recipients named and no route matches these labels: name contacts or groups, or add a route that matches (testRoute shows which do)")
		}
		in.Recipients = *in.Fallback
		return in, nil
	}
	in.Recipients, in.routedBy = d.Recipients(), d.routeIDs()
	if in.TemplateID == nil || in.SourceID != nil {
		for _, r := range routes {
			if r.TemplateID != nil {
				id := models.FormatID(*r.TemplateID)
				in.TemplateID = &id
				break
			}
		}
	}
	return in, nil
}

// TestRoute decides, without storing anything, what would happen to an alert with these labels:
// the routes it meets, the silences, and (for the caller to read from the groups) the time quiet
// hours are judged at.
func (o *Outbox) TestRoute(ctx context.Context, labels Labels, severity senders.Severity) (Decision, error) {
	labels, err := cleanLabels(labels)
	if err != nil {
		return Decision{}, err
	}
	if severity == "" {
		severity = senders.Warning
	}
	db := o.db.WithContext(ctx)
	now, err := dbNow(db)
	if err != nil {
		return Decision{}, err
	}
	d, err := decide(db, matchLabels(labels, severity, ""), now)
	if err != nil {
		return Decision{}, wrapAlertErr("test route", err)
	}
	return d, nil
}

// holdOf decides whether quiet hours hold a delivery to contacts, and until when: an alert below
// CRITICAL is held when every contact behind the robot was reached only through groups in their
// quiet hours. It is released when the first of those groups' hours end (someone is awake then),
// and dropped only when every one of those groups drops.
type holdOf struct {
	now   time.Time
	quiet map[uint]quietGroup
}

type quietGroup struct {
	until time.Time
	on    bool
}

func newHoldOf(now time.Time) *holdOf { return &holdOf{now: now, quiet: map[uint]quietGroup{}} }

func (h *holdOf) group(g *models.Group) quietGroup {
	q, ok := h.quiet[g.ID]
	if !ok {
		q.until, q.on = g.QuietHours.Until(h.now)
		q.until = q.until.UTC() // stored times are UTC (SQLite compares them as text)
		h.quiet[g.ID] = q
	}
	return q
}

// of returns the hold for the robot's contacts: the policy, the release time and the groups' names.
func (h *holdOf) of(severity senders.Severity, contacts []*models.Recipient) (Hold, time.Time, []string) {
	if severity == senders.Critical || len(contacts) == 0 {
		return HoldNone, time.Time{}, nil
	}
	hold := HoldDrop
	var until time.Time
	var by []string
	for _, r := range contacts {
		if r.Direct || len(r.Via) == 0 {
			return HoldNone, time.Time{}, nil
		}
		for _, g := range r.Via {
			q := h.group(g)
			if !q.on {
				return HoldNone, time.Time{}, nil
			}
			if until.IsZero() || q.until.Before(until) {
				until = q.until
			}
			if g.QuietPolicy != models.QuietDrop {
				hold = HoldDigest
			}
			if !slices.Contains(by, g.Name) {
				by = append(by, g.Name)
			}
		}
	}
	slices.Sort(by)
	return hold, until, by
}
