package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// Alert statuses. An alert is PENDING while any of its deliveries is; then its final status says how
// many of its deliveries were accepted by their robots.
const (
	AlertPending            = "PENDING"
	AlertDelivered          = "DELIVERED"
	AlertPartiallyDelivered = "PARTIALLY_DELIVERED"
	AlertFailed             = "FAILED"
)

// Delivery statuses. A claimed delivery stays PENDING: its lease is its next_attempt_at, so a
// delivery whose worker died becomes due again without a separate reclaim step.
const (
	DeliveryPending = "PENDING"
	DeliverySent    = "SENT"
	DeliveryFailed  = "FAILED"
)

// Alert is one message sent to a set of contacts. Its deliveries, one per distinct webhook URL,
// are fixed when it is accepted.
type Alert struct {
	ID       uint             `gorm:"primaryKey;index:ix_alerts_created,priority:2;index:ix_alerts_status_created,priority:3"`
	Title    string           `gorm:"size:256;not null"`
	Content  string           `gorm:"size:65536;not null"` // mediumtext on MySQL: TEXT holds one byte less than 64 KiB
	Severity senders.Severity `gorm:"size:16;not null"`
	Format   senders.Format   `gorm:"size:16;not null"`
	Status   string           `gorm:"size:24;not null;index:ix_alerts_status_created,priority:1"`
	// IdempotencyKey is unique: the index, not a read-then-write, makes two concurrent sends with one
	// key end with one alert.
	IdempotencyKey  *string `gorm:"size:128;uniqueIndex:ux_alerts_idempotency_key"`
	MentionAll      bool    `gorm:"not null"`
	MentionContacts bool    `gorm:"not null"`
	// Test marks an alert made by testContact.
	Test      bool      `gorm:"not null"`
	CreatedAt time.Time `gorm:"precision:6;index:ix_alerts_created,priority:1;index:ix_alerts_status_created,priority:2"`
	UpdatedAt time.Time `gorm:"precision:6"`
}

// Delivery is one alert to one robot (webhook URL). It copies what sending needs, and the contacts it
// was for, so that history stays readable and retries still work after contacts or webhooks change:
// there is deliberately no foreign key to contacts or webhooks.
type Delivery struct {
	ID       uint             `gorm:"primaryKey"`
	AlertID  uint             `gorm:"not null;index:ix_deliveries_alert_status,priority:1"`
	Platform senders.Platform `gorm:"size:16;not null"`
	URL      string           `gorm:"size:2048;not null"`
	// URLHash identifies the robot: its rate budget and circuit breaker are per URL.
	URLHash string  `gorm:"size:64;not null;index:ix_deliveries_robot,priority:1"`
	Secret  *string `gorm:"size:1024" json:"-"`
	Keyword *string `gorm:"size:64"`
	// MentionPhones are the phones to @, already resolved from mentionContacts.
	MentionPhones []string `gorm:"serializer:json;size:16777215"`
	ContactIDs    []uint   `gorm:"serializer:json;size:16777215"`
	ContactNames  []string `gorm:"serializer:json;size:16777215"`
	// Status and NextAttemptAt lead both queue indexes: "what is due" is a range scan.
	Status string `gorm:"size:16;not null;index:ix_deliveries_queue,priority:1;index:ix_deliveries_robot,priority:2;index:ix_deliveries_alert_status,priority:2"`
	// NextAttemptAt is when the delivery is next due; while a worker holds it, the end of its lease;
	// nil once final.
	NextAttemptAt *time.Time `gorm:"precision:6;index:ix_deliveries_queue,priority:2;index:ix_deliveries_robot,priority:3"`
	// ClaimToken fences workers: only the holder of the current claim may record a result.
	ClaimToken *string    `gorm:"size:32" json:"-"`
	Attempts   int        `gorm:"not null"`
	LastError  *string    `gorm:"size:2048"`
	SentAt     *time.Time `gorm:"precision:6"`
	CreatedAt  time.Time  `gorm:"precision:6"`
	UpdatedAt  time.Time  `gorm:"precision:6"`

	Alert *Alert `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// Target is what the dispatcher sends to.
func (d *Delivery) Target() senders.Target {
	t := senders.Target{URL: d.URL, Platform: d.Platform}
	if d.Secret != nil {
		t.Secret = *d.Secret
	}
	if d.Keyword != nil {
		t.Keyword = *d.Keyword
	}
	return t
}

// DeliveryAttempt is one HTTP call made for a delivery. When several alerts were combined into one
// message, each of their deliveries records the same call, with Coalesced saying how many shared it.
type DeliveryAttempt struct {
	ID           uint      `gorm:"primaryKey"`
	DeliveryID   uint      `gorm:"not null;index:ix_delivery_attempts_delivery,priority:1"`
	At           time.Time `gorm:"precision:6;not null;index:ix_delivery_attempts_delivery,priority:2"`
	DurationMs   int       `gorm:"not null"`
	HTTPStatus   *int
	PlatformCode *int
	// Outcome is SENT, RETRYABLE or PERMANENT (senders.Outcome), or EXPIRED/RELEASED when no verdict came.
	Outcome   string  `gorm:"size:16;not null"`
	Error     *string `gorm:"size:2048"`
	Coalesced int     `gorm:"not null"`

	Delivery *Delivery `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// Robot is the shared state of one webhook URL across all replicas: its row is the lock that
// serialises claims for the robot, and it holds the circuit breaker.
type Robot struct {
	URLHash  string           `gorm:"primaryKey;size:64"`
	Platform senders.Platform `gorm:"size:16;not null"`
	// Failures counts consecutive retryable failures; PausedUntil is set when the breaker opens, when
	// the platform asked us to back off, and while a half-open probe is in flight.
	Failures    int        `gorm:"not null"`
	PausedUntil *time.Time `gorm:"precision:6"`
	CreatedAt   time.Time  `gorm:"precision:6"`
	UpdatedAt   time.Time  `gorm:"precision:6"`
}

// RobotSend is one message counted against a robot's rate budget. It is written when the send is
// reserved (at claim time) and moved to the time the answer came back once settled, which is never
// earlier than the platform counted it.
type RobotSend struct {
	ID      uint      `gorm:"primaryKey"`
	URLHash string    `gorm:"size:64;not null;index:ix_robot_sends_robot,priority:1"`
	SentAt  time.Time `gorm:"precision:6;not null;index:ix_robot_sends_robot,priority:2"`
	Settled bool      `gorm:"not null"`
}

// MigrateAlerts creates or updates the alert and delivery tables. Migrate calls it; it is safe to
// run on every start.
func MigrateAlerts(db *gorm.DB) error {
	if IsMySQL(db) {
		db = db.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	if err := db.AutoMigrate(&Alert{}, &Delivery{}, &DeliveryAttempt{}, &Robot{}, &RobotSend{}); err != nil {
		return fmt.Errorf("migrate alert schema: %w", err)
	}
	return nil
}

// DBNow is the database's clock, the only clock the queue uses, so replicas with skewed clocks agree
// on what is due. UTC_TIMESTAMP rather than NOW: stored times are UTC whatever the session time zone.
// SQLite runs in this process, so its clock is ours; times are bound as UTC text, which SQLite then
// compares as strings, so every time the queue binds must be UTC.
func DBNow(tx *gorm.DB) (time.Time, error) {
	if !IsMySQL(tx) {
		return time.Now().UTC().Truncate(time.Microsecond), nil
	}
	var t time.Time
	if err := tx.Raw("SELECT UTC_TIMESTAMP(6)").Row().Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return t.UTC(), nil
}

// alertCursor is the position after a row of the alert list, ordered newest first.
type alertCursor struct {
	T  time.Time `json:"t"`
	ID uint      `json:"i"`
}

// Alert returns one alert, or a NOT_FOUND error.
func (s *Store) Alert(ctx context.Context, id string) (*Alert, error) {
	aid, ok := ParseID(id)
	if !ok {
		return nil, notFound("id", "alert", id)
	}
	var a Alert
	if err := s.db.WithContext(ctx).First(&a, aid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, notFound("id", "alert", id)
		}
		return nil, fmt.Errorf("load alert: %w", err)
	}
	return &a, nil
}

func (s *Store) alertQuery(ctx context.Context, status *string) (*gorm.DB, error) {
	q := s.db.WithContext(ctx).Model(&Alert{})
	if status != nil {
		switch *status {
		case AlertPending, AlertDelivered, AlertPartiallyDelivered, AlertFailed:
		default:
			return nil, invalid("status", "unknown alert status %q", *status)
		}
		q = q.Where("status = ?", *status)
	}
	return q, nil
}

// Alerts lists alerts newest first (created_at, then id, descending).
func (s *Store) Alerts(ctx context.Context, status *string, page PageArgs) (Page[*Alert], error) {
	if err := checkFirst(page.First); err != nil {
		return Page[*Alert]{}, err
	}
	q, err := s.alertQuery(ctx, status)
	if err != nil {
		return Page[*Alert]{}, err
	}
	if page.After != "" {
		var c alertCursor
		if err := decodeCursor("after", page.After, &c); err != nil {
			return Page[*Alert]{}, err
		}
		t := c.T.UTC()
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", t, t, c.ID)
	}
	var rows []*Alert
	if err := q.Order("created_at DESC, id DESC").Limit(page.First + 1).Find(&rows).Error; err != nil {
		return Page[*Alert]{}, fmt.Errorf("list alerts: %w", err)
	}
	return cutPage(rows, page.First, func(a *Alert) any { return alertCursor{T: a.CreatedAt, ID: a.ID} }), nil
}

// CountAlerts counts the alerts with the given status, or all.
func (s *Store) CountAlerts(ctx context.Context, status *string) (int, error) {
	q, err := s.alertQuery(ctx, status)
	if err != nil {
		return 0, err
	}
	return count(q, "alerts")
}

// DeliveriesByAlert returns the deliveries of each alert, in creation order.
func (s *Store) DeliveriesByAlert(ctx context.Context, alertIDs []uint) (map[uint][]*Delivery, error) {
	var rows []*Delivery
	if err := s.db.WithContext(ctx).Where("alert_id IN ?", alertIDs).Order("alert_id, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load deliveries: %w", err)
	}
	out := make(map[uint][]*Delivery, len(alertIDs))
	for _, d := range rows {
		out[d.AlertID] = append(out[d.AlertID], d)
	}
	return out, nil
}

// AttemptsByDelivery returns the attempts of each delivery, oldest first.
func (s *Store) AttemptsByDelivery(ctx context.Context, deliveryIDs []uint) (map[uint][]*DeliveryAttempt, error) {
	var rows []*DeliveryAttempt
	if err := s.db.WithContext(ctx).Where("delivery_id IN ?", deliveryIDs).Order("delivery_id, at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load delivery attempts: %w", err)
	}
	out := make(map[uint][]*DeliveryAttempt, len(deliveryIDs))
	for _, a := range rows {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}
