package delivery

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// AlertStatus is where an alert stands; the values match the GraphQL enum. An alert is PENDING
// while any of its deliveries is; then its final status says how many were accepted by their robots.
type AlertStatus string

const (
	AlertPending            AlertStatus = "PENDING"
	AlertDelivered          AlertStatus = "DELIVERED"
	AlertPartiallyDelivered AlertStatus = "PARTIALLY_DELIVERED"
	AlertFailed             AlertStatus = "FAILED"
	// AlertSilenced: an active silence matched it when it was accepted; it has no deliveries.
	AlertSilenced AlertStatus = "SILENCED"
	// AlertDropped: quiet hours dropped every delivery.
	AlertDropped AlertStatus = "DROPPED"
)

// Valid reports whether s is one of the statuses.
func (s AlertStatus) Valid() bool {
	switch s {
	case AlertPending, AlertDelivered, AlertPartiallyDelivered, AlertFailed, AlertSilenced, AlertDropped:
		return true
	}
	return false
}

// DeliveryStatus is where one delivery stands; the values match the GraphQL enum. A claimed
// delivery stays PENDING: its lease is its next_attempt_at, so a delivery whose worker died becomes
// due again without a separate reclaim step.
type DeliveryStatus string

const (
	DeliveryPending DeliveryStatus = "PENDING"
	DeliverySent    DeliveryStatus = "SENT"
	DeliveryFailed  DeliveryStatus = "FAILED"
	// DeliveryHeld waits for the end of its groups' quiet hours, its next_attempt_at; then it is
	// PENDING again (a digest) or DROPPED, by whichever replica releases it (releaseHeld).
	DeliveryHeld    DeliveryStatus = "HELD"
	DeliveryDropped DeliveryStatus = "DROPPED"
)

// Hold is what a delivery held by quiet hours becomes when they end; the values are the groups'
// quiet policies.
type Hold string

const (
	HoldNone   Hold = ""
	HoldDigest Hold = Hold(models.QuietDigest)
	HoldDrop   Hold = Hold(models.QuietDrop)
)

// Verdicts of an attempt that are not a platform's answer; the platforms' are senders.Sent,
// senders.Retryable and senders.Permanent.
const (
	// Expired: the delivery outlived MaxAge without being sent; no request was made.
	Expired senders.Outcome = "EXPIRED"
	// Released: shutdown cut the request short; the delivery is due again at once.
	Released senders.Outcome = "RELEASED"
	// Dropped: quiet hours with the DROP policy ended; no request was made.
	Dropped senders.Outcome = "DROPPED"
)

// Alert is one message sent to a set of contacts. Its deliveries, one per distinct robot, are fixed
// when it is accepted.
type Alert struct {
	ID uint `gorm:"primaryKey;index:ix_alerts_created,priority:2;index:ix_alerts_status_created,priority:3;index:ix_alerts_namespace_created,priority:3"`
	// NamespaceID is the namespace the alert was sent in; it leads the history's index.
	NamespaceID uint             `gorm:"not null;default:1;index:ix_alerts_namespace_created,priority:1;index:ix_alerts_namespace_updated,priority:1;uniqueIndex:ux_alerts_namespace_idempotency_key,priority:1"`
	Title       string           `gorm:"size:256;not null"`
	Content     string           `gorm:"size:65536;not null"` // mediumtext on MySQL: TEXT holds one byte less than 64 KiB
	Severity    senders.Severity `gorm:"size:16;not null"`
	Format      senders.Format   `gorm:"size:16;not null"`
	Status      AlertStatus      `gorm:"size:24;not null;index:ix_alerts_status_created,priority:1"`
	// IdempotencyKey is unique within the namespace: the index, not a read-then-write, makes two
	// concurrent sends with one key end with one alert, and two teams may use the same key.
	IdempotencyKey  *string `gorm:"size:128;uniqueIndex:ux_alerts_namespace_idempotency_key,priority:2"`
	MentionAll      bool    `gorm:"not null"`
	MentionContacts bool    `gorm:"not null"`
	// Test marks an alert made by testContact.
	Test bool `gorm:"not null"`
	// Resolved marks a notice that the problem is over: it reads as resolved on every platform.
	Resolved bool   `gorm:"not null;default:false"`
	Labels   Labels `gorm:"serializer:json;size:16777215"`
	// SourceID is the integration whose hook made the alert; there is no foreign key, so that the
	// history outlives the integration.
	SourceID *uint `gorm:"column:source_integration_id"`
	// Links are the message's links: a card's buttons.
	Links []senders.Link `gorm:"serializer:json;size:16777215"`
	// TemplateID is the message template the alert was rendered with (no foreign key: the history
	// outlives the template).
	TemplateID *uint `gorm:"column:template_id"`
	// TemplateError says why the template failed and the default layout was sent; every attempt
	// of the alert's deliveries repeats it.
	TemplateError *string `gorm:"size:1024"`
	// SilencedByID is the silence that matched it when accepted (no foreign key: the history
	// outlives the silence).
	SilencedByID *uint `gorm:"column:silenced_by_id"`
	// RoutedBy are the routes that chose its recipients, in the order tried.
	RoutedBy  []uint    `gorm:"serializer:json;size:65536"`
	CreatedAt time.Time `gorm:"precision:6;index:ix_alerts_created,priority:1;index:ix_alerts_status_created,priority:2;index:ix_alerts_namespace_created,priority:2"`
	// UpdatedAt changes when the alert is accepted, finished or retried; the change feed reads the
	// namespace's recent ones by its index.
	UpdatedAt time.Time `gorm:"precision:6;index:ix_alerts_namespace_updated,priority:2"`
}

// Delivery is one alert to one robot. It copies what sending needs, and the contacts it was for, so
// that history stays readable and retries still work after contacts or webhooks change: there is
// deliberately no foreign key to contacts or webhooks.
type Delivery struct {
	ID       uint             `gorm:"primaryKey"`
	AlertID  uint             `gorm:"not null;index:ix_deliveries_alert_status,priority:1"`
	Platform senders.Platform `gorm:"size:16;not null"`
	URL      string           `gorm:"size:2048;not null"`
	// RobotKey identifies the robot (the SHA-256 of its URL): its rate budget and circuit breaker
	// are per robot.
	RobotKey string          `gorm:"column:url_hash;size:64;not null;index:ix_deliveries_robot,priority:1"`
	Secret   *secrets.Sealed `gorm:"size:1024" json:"-"`
	Keyword  *string         `gorm:"size:64"`
	// MentionPhones are the phones to @, already resolved from mentionContacts: those of the
	// contacts without a user id on the robot's platform.
	MentionPhones []string `gorm:"serializer:json;size:16777215"`
	// MentionUserIDs are the contacts' user ids on the robot's platform, mentioned by id.
	MentionUserIDs []string `gorm:"serializer:json;size:16777215"`
	ContactIDs     []uint   `gorm:"serializer:json;size:16777215"`
	ContactNames   []string `gorm:"serializer:json;size:16777215"`
	// Hold is set on a delivery quiet hours held: what it becomes when they end, at HeldUntil. It
	// stays after the release, so that a retried digest is still packed as one.
	Hold      Hold       `gorm:"size:8;not null;default:''"`
	HeldUntil *time.Time `gorm:"precision:6"`
	// HeldBy names the groups whose quiet hours held it.
	HeldBy *string `gorm:"size:1024"`
	// Status and NextAttemptAt lead both queue indexes: "what is due" is a range scan.
	Status DeliveryStatus `gorm:"size:16;not null;index:ix_deliveries_queue,priority:1;index:ix_deliveries_robot,priority:2;index:ix_deliveries_alert_status,priority:2"`
	// NextAttemptAt is when the delivery is next due; while a worker holds it, the end of its lease;
	// nil once final.
	NextAttemptAt *time.Time `gorm:"precision:6;index:ix_deliveries_queue,priority:2;index:ix_deliveries_robot,priority:3"`
	// ClaimToken fences workers: only the holder of the current claim may record a result.
	ClaimToken *string    `gorm:"size:32" json:"-"`
	Attempts   int        `gorm:"not null"`
	LastError  *string    `gorm:"size:2048"`
	SentAt     *time.Time `gorm:"precision:6"`
	// RetriedAt is when someone last made the FAILED delivery due again; its max age counts anew
	// from then.
	RetriedAt *time.Time `gorm:"precision:6"`
	CreatedAt time.Time  `gorm:"precision:6"`
	UpdatedAt time.Time  `gorm:"precision:6"`

	Alert *Alert `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// dueSince is when the delivery became due: when its alert was accepted, when quiet hours that
// held it ended, or when it was retried, whichever is latest. Its max age counts from then.
func (d *Delivery) dueSince() time.Time {
	since := d.CreatedAt
	for _, t := range []*time.Time{d.HeldUntil, d.RetriedAt} {
		if t != nil && t.After(since) {
			since = *t
		}
	}
	return since
}

// holdNote says what quiet hours do to the delivery, for previews and attempts; "" when none held it.
func (d *Delivery) holdNote() string {
	if d.Hold == HoldNone || d.HeldBy == nil || d.HeldUntil == nil {
		return ""
	}
	then := "then sent in a digest"
	if d.Hold == HoldDrop {
		then = "then dropped (quiet policy DROP)"
	}
	return fmt.Sprintf("held by the quiet hours of %s until %s, %s", *d.HeldBy, d.HeldUntil.UTC().Format(time.RFC3339), then)
}

// robot is the delivery's robot as stored, its signing secret still sealed. It is comparable:
// deliveries to the same robot with the same protection may share one message.
type robot struct {
	platform senders.Platform
	url      string
	secret   secrets.Sealed
	keyword  string
}

func (d *Delivery) robot() robot {
	r := robot{platform: d.Platform, url: d.URL}
	if d.Secret != nil {
		r.secret = *d.Secret
	}
	if d.Keyword != nil {
		r.keyword = *d.Keyword
	}
	return r
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
	// Outcome is the platform's verdict, or Expired or Released when no verdict came.
	Outcome   senders.Outcome `gorm:"size:16;not null"`
	Error     *string         `gorm:"size:2048"`
	Coalesced int             `gorm:"not null"`
	// Note is what the attempt's reader should know beside the verdict: the template that failed
	// (the default layout was sent), a card sent as markdown, a companion message that failed.
	Note *string `gorm:"size:2048"`

	Delivery *Delivery `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// RobotState is the shared state of one robot across all replicas: its row is the lock that
// serialises claims for the robot, and it holds the circuit breaker.
type RobotState struct {
	RobotKey string           `gorm:"column:url_hash;primaryKey;size:64"`
	Platform senders.Platform `gorm:"size:16;not null"`
	// Failures counts consecutive retryable failures; PausedUntil is set when the breaker opens, when
	// the platform asked us to back off, and while a half-open probe is in flight.
	Failures    int        `gorm:"not null"`
	PausedUntil *time.Time `gorm:"precision:6"`
	CreatedAt   time.Time  `gorm:"precision:6"`
	UpdatedAt   time.Time  `gorm:"precision:6"`
}

// TableName keeps the table of earlier versions.
func (RobotState) TableName() string { return "robots" }

// RobotSend is one message counted against a robot's rate budget. It is written when the send is
// reserved (at claim time) and moved to the time the answer came back once settled, which is never
// earlier than the platform counted it.
type RobotSend struct {
	ID       uint      `gorm:"primaryKey"`
	RobotKey string    `gorm:"column:url_hash;size:64;not null;index:ix_robot_sends_robot,priority:1"`
	SentAt   time.Time `gorm:"precision:6;not null;index:ix_robot_sends_robot,priority:2"`
	Settled  bool      `gorm:"not null"`
}

// SecretTables are the tables of this package that hold sealed secrets, in the column "secret".
var SecretTables = []string{"deliveries"}

// Migrate creates or updates the outbox's tables. It is safe to run on every start, after
// models.Migrate.
func Migrate(db *gorm.DB) error {
	if err := models.AutoMigrate(db, &Alert{}, &Delivery{}, &DeliveryAttempt{}, &RobotState{}, &RobotSend{}, &leaseRow{}); err != nil {
		return fmt.Errorf("migrate outbox: %w", err)
	}
	// Before namespaces an idempotency key was unique across all alerts.
	if err := models.DropIndexIfExists(db, &Alert{}, "ux_alerts_idempotency_key"); err != nil {
		return fmt.Errorf("migrate outbox: %w", err)
	}
	return nil
}
