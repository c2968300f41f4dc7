package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"gorm.io/gorm"
)

// The reads below serve the API: an alert, the alert list, and the batch reads of its per-request
// loaders (one statement for any number of keys).

// alertCursor is the position after a row of the alert list, ordered newest first.
type alertCursor struct {
	T  time.Time `json:"t"`
	ID uint      `json:"i"`
}

// Alert returns one alert, or a NOT_FOUND error.
func (o *Outbox) Alert(ctx context.Context, id string) (*Alert, error) {
	aid, ok := models.ParseID(id)
	if !ok {
		return nil, models.NotFound("id", "alert", id)
	}
	var a Alert
	if err := o.db.WithContext(ctx).First(&a, aid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.NotFound("id", "alert", id)
		}
		return nil, fmt.Errorf("load alert: %w", err)
	}
	return &a, nil
}

func (o *Outbox) alertQuery(ctx context.Context, status *AlertStatus) *gorm.DB {
	q := o.db.WithContext(ctx).Model(&Alert{})
	if status != nil {
		q = q.Where("status = ?", *status)
	}
	return q
}

// newestAlerts orders alerts newest first: created_at, then id, descending.
var newestAlerts = models.Keyset{Columns: []string{"created_at", "id"}, Descending: true}

// Alerts lists alerts newest first (created_at, then id, descending).
func (o *Outbox) Alerts(ctx context.Context, status *AlertStatus, page models.PageArgs) (models.Page[*Alert], error) {
	if err := page.Check(); err != nil {
		return models.Page[*Alert]{}, err
	}
	if status != nil && !status.Valid() {
		return models.Page[*Alert]{}, models.Invalid("status", "unknown alert status %q", string(*status))
	}
	var c alertCursor
	has, err := page.DecodeCursor(&c)
	if err != nil {
		return models.Page[*Alert]{}, err
	}
	var at []any
	if has {
		at = []any{c.T.UTC(), c.ID}
	}
	var rows []*Alert
	if err := newestAlerts.Seek(o.alertQuery(ctx, status), page, at).Find(&rows).Error; err != nil {
		return models.Page[*Alert]{}, fmt.Errorf("list alerts: %w", err)
	}
	return models.CutPage(rows, page, func(a *Alert) any { return alertCursor{T: a.CreatedAt, ID: a.ID} }), nil
}

// CountAlerts counts the alerts with the given status, or all.
func (o *Outbox) CountAlerts(ctx context.Context, status *AlertStatus) (int, error) {
	return models.CountRows(o.alertQuery(ctx, status), "alerts")
}

// DeliveriesByAlert returns the deliveries of each alert, in creation order.
func (o *Outbox) DeliveriesByAlert(ctx context.Context, alertIDs []uint) (map[uint][]*Delivery, error) {
	return models.ListsByParent(ctx, o.db, "deliveries", "alert_id", "alert_id, id", alertIDs,
		func(d *Delivery) uint { return d.AlertID })
}

// AttemptsByDelivery returns the attempts of each delivery, oldest first.
func (o *Outbox) AttemptsByDelivery(ctx context.Context, deliveryIDs []uint) (map[uint][]*DeliveryAttempt, error) {
	return models.ListsByParent(ctx, o.db, "delivery attempts", "delivery_id", "delivery_id, at, id", deliveryIDs,
		func(a *DeliveryAttempt) uint { return a.DeliveryID })
}

// CountDeliveries counts the deliveries in a status (PENDING: waiting to be sent; HELD: waiting for
// quiet hours to end), across all replicas; the queue index leads with the status.
func (o *Outbox) CountDeliveries(ctx context.Context, status string) (int64, error) {
	var n int64
	if err := o.db.WithContext(ctx).Model(&Delivery{}).Where("status = ?", status).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count %s deliveries: %w", strings.ToLower(status), err)
	}
	return n, nil
}
