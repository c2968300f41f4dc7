package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/templates"
	"gorm.io/gorm"
)

// Alert input limits.
const (
	MaxAlertTitleLength     = 256      // characters
	MaxAlertContentBytes    = 64 << 10 // bytes
	MaxIdempotencyKeyLength = 128      // characters
)

// Outbox accepts alerts into the database, where the dispatcher finds them, and reads their history.
type Outbox struct {
	db       *gorm.DB
	book     *models.Store
	notifier *notify.Notifier
	// robots holds the keys of robot rows known to exist. Robot rows are never deleted, so a key
	// once seen needs no lookup again: a busy robot's every alert would otherwise read its row.
	robots sync.Map
	// parsed caches parsed message templates by id and revision.
	parsed templateCache
}

// NewOutbox returns the outbox over the address book's database: an alert and its deliveries are
// planned from the recipients and stored in one transaction. The notifier renders previews exactly
// as the dispatcher will send them.
func NewOutbox(book *models.Store, notifier *notify.Notifier) *Outbox {
	if notifier == nil {
		panic("delivery.NewOutbox needs a notifier")
	}
	return &Outbox{db: book.DB(), book: book, notifier: notifier}
}

// AlertInput is a sendAlert request.
type AlertInput struct {
	Title           string
	Content         string
	Severity        senders.Severity
	Format          senders.Format
	Recipients      models.RecipientQuery
	MentionAll      bool
	MentionContacts bool
	IdempotencyKey  *string
	// Resolved marks a notice that the problem is over.
	Resolved bool
	Labels   Labels
	// SourceID is the integration whose hook sent the alert.
	SourceID *uint
	// RepeatAfter, with IdempotencyKey, makes the key hold for this long only: a repeat after it
	// is accepted again, as a reminder (an Alertmanager group re-sent after repeat_interval). Zero:
	// the key holds for good, as sendAlert's does.
	RepeatAfter time.Duration
	// Links are the message's links: a card's buttons, link lines in other formats.
	Links []senders.Link
	// TemplateID names a message template of the namespace that renders title and content from
	// Data (and sets the format). Without one, Default renders them when set, and otherwise the
	// title and content are sent as given.
	TemplateID *string
	// Default is the layout of the alert's kind of source, and what a failing template falls back
	// to; nil: the title and content as given.
	Default *templates.Builtin
	// Data is what the template renders; nil: made from the other fields.
	Data *templates.Data
	// Inline is an unsaved template, used instead of TemplateID (previews).
	Inline *InlineTemplate
	// RouteByLabels routes the alert by its labels even though Recipients names some: they are
	// the Fallback when no route matches (an integration's own recipients).
	RouteByLabels bool
	Fallback      *models.RecipientQuery
	// SourceName is the integration's name, the label integration that routes and silences match.
	SourceName string

	// set by route and compose
	routedBy      []uint
	templateID    *uint
	templateError *string
}

// alert is the alert the input makes, before it is stored.
func (in AlertInput) alert() *Alert {
	return &Alert{
		Title: in.Title, Content: in.Content, Severity: in.Severity, Format: in.Format, Status: AlertPending,
		IdempotencyKey: in.IdempotencyKey, MentionAll: in.MentionAll, MentionContacts: in.MentionContacts,
		Resolved: in.Resolved, Labels: in.Labels, SourceID: in.SourceID, Links: in.Links,
		TemplateID: in.templateID, TemplateError: in.templateError, RoutedBy: in.routedBy,
	}
}

// cleanAlert checks the message fields and the recipient query, and fills the defaults.
func cleanAlert(in AlertInput) (AlertInput, error) {
	in, err := cleanMessage(in)
	if err != nil {
		return in, err
	}
	return in, in.Recipients.Check()
}

// cleanMessage checks the message fields and fills the defaults (INFO, TEXT).
func cleanMessage(in AlertInput) (AlertInput, error) {
	in.Title = strings.TrimSpace(in.Title)
	if !utf8.ValidString(in.Title) {
		return in, models.Invalid("title", "title is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(in.Title); n == 0 || n > MaxAlertTitleLength {
		return in, models.Invalid("title", "title must be 1 to %d characters, got %d", MaxAlertTitleLength, n)
	}
	if !utf8.ValidString(in.Content) {
		return in, models.Invalid("content", "content is not valid UTF-8")
	}
	if strings.TrimSpace(in.Content) == "" || len(in.Content) > MaxAlertContentBytes {
		return in, models.Invalid("content", "content must be 1 to %d bytes and not only spaces, got %d bytes", MaxAlertContentBytes, len(in.Content))
	}
	switch in.Severity {
	case "":
		in.Severity = senders.Info
	case senders.Info, senders.Warning, senders.Critical:
	default:
		return in, models.Invalid("severity", "unknown severity %q", string(in.Severity))
	}
	switch in.Format {
	case "":
		in.Format = senders.Text
	case senders.Text, senders.Markdown, senders.Card:
	default:
		return in, models.Invalid("format", "unknown format %q", string(in.Format))
	}
	if in.SourceID == nil {
		// A caller's links are refused when unusable; a source's were chosen by Herald.
		if err := checkLinks(in.Links); err != nil {
			return in, err
		}
	}
	if err := checkIdempotencyKey(in); err != nil {
		return in, err
	}
	var err error
	if in.Labels, err = cleanLabels(in.Labels); err != nil {
		return in, err
	}
	return in, nil
}

// checkIdempotencyKey applies the key's own rules: its length, and the prefix reserved for hooks.
func checkIdempotencyKey(in AlertInput) error {
	if in.IdempotencyKey == nil {
		return nil
	}
	k := *in.IdempotencyKey
	if in.SourceID == nil && strings.HasPrefix(k, HookKeyPrefix) {
		return models.Invalid("idempotencyKey", "keys starting with %q are reserved for integrations", HookKeyPrefix)
	}
	limit := MaxIdempotencyKeyLength
	if in.RepeatAfter > 0 {
		limit -= repeatSuffixRoom
	}
	if n := utf8.RuneCountInString(k); n == 0 || n > limit || !utf8.ValidString(k) {
		return models.Invalid("idempotencyKey", "idempotencyKey must be 1 to %d characters", limit)
	}
	return nil
}

// Plan resolves an alert's recipients and messages without storing anything, for previewAlert.
func (o *Outbox) Plan(ctx context.Context, in AlertInput) ([]PlannedDelivery, error) {
	in, err := o.route(ctx, in)
	if err != nil {
		return nil, err
	}
	in, err = o.compose(ctx, in)
	if err != nil {
		return nil, err
	}
	in, err = cleanAlert(in)
	if err != nil {
		return nil, err
	}
	var plan []PlannedDelivery
	err = o.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var silence *models.Silence
		var err error
		if plan, silence, _, err = decideDeliveries(tx, in); err != nil {
			return err
		}
		for i := range plan {
			plan[i].Silence = silence
		}
		return nil
	})
	if err != nil {
		return nil, wrapAlertErr("plan alert", err)
	}
	return plan, nil
}

// Accept resolves the recipients and stores the alert with all its deliveries in one transaction,
// to be sent asynchronously. created is false when the idempotency key was used before: the first
// alert is returned and nothing new is sent.
//
// An alert an active silence matches is stored SILENCED, without deliveries; a delivery whose
// contacts were all reached through groups in their quiet hours is stored HELD until they end.
func (o *Outbox) Accept(ctx context.Context, in AlertInput) (*Alert, bool, error) {
	// A repeated key is answered with its first alert before anything else is decided: a retry
	// must get the alert it made, even if the routes or templates changed since.
	if err := checkIdempotencyKey(in); err != nil {
		return nil, false, err
	}
	var nextKey *string
	switch {
	case in.IdempotencyKey != nil && in.RepeatAfter > 0:
		key, first, err := o.repeatKey(ctx, *in.IdempotencyKey, in.RepeatAfter)
		if err != nil || first != nil {
			return first, false, err
		}
		nextKey = &key
	case in.IdempotencyKey != nil:
		if a, err := o.alertByKey(ctx, *in.IdempotencyKey); err != nil || a != nil {
			return a, false, err
		}
	}
	in, err := o.route(ctx, in)
	if err != nil {
		return nil, false, err
	}
	in, err = o.compose(ctx, in)
	if err != nil {
		return nil, false, err
	}
	in, err = cleanAlert(in)
	if err != nil {
		return nil, false, err
	}
	if nextKey != nil {
		in.IdempotencyKey = nextKey
	}
	var a *Alert
	var plan []PlannedDelivery
	err = queueTx(ctx, o.db, func(tx *gorm.DB) error {
		a = in.alert()
		p, silence, now, err := decideDeliveries(tx, in)
		if err != nil {
			return err
		}
		plan = p
		if silence != nil {
			if err := checkPlan(plan); err != nil {
				return err
			}
			a.Status, a.SilencedByID = AlertSilenced, &silence.ID
			plan = nil // stored without deliveries: nothing is sent
		}
		return o.acceptPlan(tx, a, plan, now)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) && in.IdempotencyKey != nil {
		// A concurrent send with the same key committed first; the unique index made us wait for it.
		first, lerr := o.alertByKey(ctx, *in.IdempotencyKey)
		if lerr != nil {
			return nil, false, lerr
		}
		if first != nil {
			return first, false, nil
		}
	}
	if err != nil {
		return nil, false, wrapAlertErr("create alert", err)
	}
	o.knowRobots(plan)
	return a, true, nil
}

// TestAlertTitle is the title of the message testContact sends.
const TestAlertTitle = "Herald test message"

// AcceptTest sends a test message to each webhook of one contact, as an alert.
func (o *Outbox) AcceptTest(ctx context.Context, contactID string) (*Alert, error) {
	var a *Alert
	var plan []PlannedDelivery
	err := queueTx(ctx, o.db, func(tx *gorm.DB) error {
		r, err := models.ContactRecipient(tx, contactID)
		if err != nil {
			return err
		}
		in := AlertInput{Title: TestAlertTitle, Content: testMessage(r, o.notifier.Platforms()), Severity: senders.Info, Format: senders.Text}
		a = &Alert{Title: in.Title, Content: in.Content, Severity: in.Severity, Format: in.Format, Status: AlertPending, Test: true}
		plan = planDeliveries([]models.Recipient{r}, in, nil)
		now, err := dbNow(tx)
		if err != nil {
			return err
		}
		return o.acceptPlan(tx, a, plan, now)
	})
	if err != nil {
		return nil, wrapAlertErr("create test alert", err)
	}
	o.knowRobots(plan)
	return a, nil
}

// testMessage lists the contact's webhooks in the order the contact shows them.
func testMessage(r models.Recipient, platforms *senders.Registry) string {
	webhooks := slices.Clone(r.Webhooks)
	slices.SortStableFunc(webhooks, func(a, b *models.Webhook) int { return a.Position - b.Position })
	var b strings.Builder
	fmt.Fprintf(&b, "Test message from Herald for contact %q: each of its %d webhook(s) gets one.\n", r.Name, len(webhooks))
	for i, w := range webhooks {
		fmt.Fprintf(&b, "%d. %s %s\n", i+1, platforms.Name(w.Platform), senders.RedactURL(w.URL))
	}
	b.WriteString("If you can read this, the webhook works; nothing needs to be done.")
	return b.String()
}

// decideDeliveries plans the alert's deliveries inside tx, on the database clock: the recipients
// resolved, the holds of their groups' quiet hours, and the active silence that mutes it (nil when
// none).
func decideDeliveries(tx *gorm.DB, in AlertInput) ([]PlannedDelivery, *models.Silence, time.Time, error) {
	recipients, err := models.ResolveRecipients(tx, in.Recipients)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	now, err := dbNow(tx)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	_, silence, err := matchingSilences(tx, matchLabels(in.Labels, in.Severity, in.SourceName).asMap(), now)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return planDeliveries(recipients, in, newHoldOf(now)), silence, now, nil
}

// checkPlan refuses an alert that reaches no robot.
func checkPlan(plan []PlannedDelivery) error {
	if len(plan) == 0 {
		return models.Invalid("", "the alert has no webhooks to send to")
	}
	return nil
}

// acceptPlan writes the alert, its deliveries, and the robot rows the dispatcher locks. A silenced
// alert has no deliveries.
func (o *Outbox) acceptPlan(tx *gorm.DB, a *Alert, plan []PlannedDelivery, now time.Time) error {
	if a.Status != AlertSilenced {
		if err := checkPlan(plan); err != nil {
			return err
		}
	}
	a.ID, a.CreatedAt, a.UpdatedAt = 0, now, now // a retried transaction starts over
	rows := make([]Delivery, len(plan))
	robots := make([]RobotState, 0, len(plan))
	for i, p := range plan {
		rows[i] = p.Delivery
		if _, known := o.robots.Load(p.Delivery.RobotKey); !known {
			robots = append(robots, RobotState{RobotKey: p.Delivery.RobotKey, Platform: p.Delivery.Platform, CreatedAt: now, UpdatedAt: now})
		}
	}
	if err := insertAlert(tx, a, rows, now); err != nil {
		return err
	}
	return ensureRobots(tx, robots)
}

// knowRobots remembers the robots of a committed plan: their rows exist now.
func (o *Outbox) knowRobots(plan []PlannedDelivery) {
	for _, p := range plan {
		o.robots.Store(p.Delivery.RobotKey, struct{}{})
	}
}

// ensureRobots inserts the robot rows that do not exist yet. Existing rows are only read, never
// written: a write would wait for a dispatcher holding the robot's lock.
func ensureRobots(tx *gorm.DB, robots []RobotState) error {
	keys := make([]string, len(robots))
	for i, r := range robots {
		keys[i] = r.RobotKey
	}
	existing := make(map[string]bool, len(keys))
	for chunk := range slices.Chunk(keys, models.MaxIDsPerRequest) {
		var part []string
		if err := tx.Model(&RobotState{}).Where("url_hash IN ?", chunk).Pluck("url_hash", &part).Error; err != nil {
			return fmt.Errorf("look up robots: %w", err)
		}
		for _, k := range part {
			existing[k] = true
		}
	}
	var missing []RobotState
	for _, r := range robots {
		if !existing[r.RobotKey] {
			missing = append(missing, r)
			existing[r.RobotKey] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return insertRobots(tx, missing)
}

// HookKeyPrefix starts the idempotency keys of alerts made by integrations' hooks; sendAlert may
// not use it, so that no caller can plant a key in an integration's range.
const HookKeyPrefix = "hook:"

// repeatSuffixRoom is what repeatKey appends to a key: "#" and a generation.
const repeatSuffixRoom = 8

// repeatKey finds the latest alert of a repeating key, stored as base#1, base#2, and so on. Within
// the window it is the alert to answer with; otherwise the key to store is the next generation.
// Two replicas taking the same notification compute the same next key, so the unique index
// leaves one alert.
func (o *Outbox) repeatKey(ctx context.Context, base string, window time.Duration) (string, *Alert, error) {
	var rows []*Alert
	// A range rather than LIKE: nothing in base needs escaping, and it reads the unique index.
	err := o.db.WithContext(ctx).Where("idempotency_key >= ? AND idempotency_key < ?", base+"#", base+"$").
		Order("id DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return "", nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	if len(rows) == 0 {
		return base + "#1", nil, nil
	}
	last := rows[0]
	if time.Since(last.CreatedAt) < window {
		return "", last, nil
	}
	generation, err := strconv.Atoi(strings.TrimPrefix(*last.IdempotencyKey, base+"#"))
	if err != nil {
		return "", nil, fmt.Errorf("idempotency key %q has no generation: %w", *last.IdempotencyKey, err)
	}
	return base + "#" + strconv.Itoa(generation+1), nil, nil
}

func (o *Outbox) alertByKey(ctx context.Context, key string) (*Alert, error) {
	var rows []*Alert
	if err := o.db.WithContext(ctx).Where("idempotency_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0], nil
}

func wrapAlertErr(op string, err error) error {
	if _, ok := models.AsError(err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
