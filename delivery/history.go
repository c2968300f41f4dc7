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

// DeliveryPage narrows an alert's deliveries: at most First (0: all) created after the delivery
// After (0: from the start), only in Status when it is set.
type DeliveryPage struct {
	First  int
	After  uint
	Status *DeliveryStatus
}

// DeliveryPagesByAlert returns one page of deliveries of each alert, in creation order: for one
// alert a range scan of the alert's index, for a page of alerts one statement that numbers each
// alert's rows (a window function, in SQLite and MariaDB alike) and keeps the first of each.
func (o *Outbox) DeliveryPagesByAlert(ctx context.Context, alertIDs []uint, p DeliveryPage) (map[uint][]*Delivery, error) {
	q := o.db.WithContext(ctx).Model(&Delivery{}).Where("alert_id IN ?", alertIDs)
	if p.After > 0 {
		q = q.Where("id > ?", p.After)
	}
	if p.Status != nil {
		q = q.Where("status = ?", *p.Status)
	}
	var rows []*Delivery
	switch {
	case p.First <= 0:
		q = q.Order("alert_id, id")
	case len(alertIDs) == 1:
		q = q.Order("id").Limit(p.First)
	default:
		q = o.db.WithContext(ctx).Table("(?) AS d", q.Select("*, ROW_NUMBER() OVER (PARTITION BY alert_id ORDER BY id) AS rn")).
			Where("rn <= ?", p.First).Order("alert_id, id")
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load a page of deliveries: %w", err)
	}
	out := make(map[uint][]*Delivery, len(alertIDs))
	for _, d := range rows {
		out[d.AlertID] = append(out[d.AlertID], d)
	}
	return out, nil
}

// DeliveryCounts is how many deliveries an alert has, in all and by status.
type DeliveryCounts struct {
	Total, Pending, Sent, Failed, Held, Dropped int
}

// DeliveryCountsByAlert counts the deliveries of each alert by status, from the alert-and-status
// index alone.
func (o *Outbox) DeliveryCountsByAlert(ctx context.Context, alertIDs []uint) (map[uint]DeliveryCounts, error) {
	var rows []struct {
		AlertID uint
		Status  DeliveryStatus
		N       int
	}
	err := o.db.WithContext(ctx).Model(&Delivery{}).Select("alert_id, status, COUNT(*) AS n").
		Where("alert_id IN ?", alertIDs).Group("alert_id, status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	out := make(map[uint]DeliveryCounts, len(alertIDs))
	for _, r := range rows {
		c := out[r.AlertID]
		c.Total += r.N
		switch r.Status {
		case DeliveryPending:
			c.Pending += r.N
		case DeliverySent:
			c.Sent += r.N
		case DeliveryFailed:
			c.Failed += r.N
		case DeliveryHeld:
			c.Held += r.N
		case DeliveryDropped:
			c.Dropped += r.N
		}
		out[r.AlertID] = c
	}
	return out, nil
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
