package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
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

// AlertFilter narrows the alert history; every condition set must hold.
type AlertFilter struct {
	Status   *AlertStatus
	Severity *senders.Severity // checked by the schema's enum
	// SourceID is the integration whose hook made the alert; Direct asks for the alerts that no
	// integration made. At most one of the two.
	SourceID *uint
	Direct   bool
	// Labels must each be on the alert with exactly this value.
	Labels []Label
	// Search is a substring of the title, letter case folded as names are.
	Search string
	// From and To bound createdAt: at or after From, before To.
	From, To *time.Time
}

// Bounds of AlertFilter.
const (
	MaxFilterLabels = 8
	MaxFilterSearch = 256
)

// clean refuses a filter no alert list should run, with the field of its filter argument, and
// trims its labels' names as alerts' were.
func (f *AlertFilter) clean() error {
	if f.Status != nil && !f.Status.Valid() {
		return models.Invalid("status", "unknown alert status %q", string(*f.Status))
	}
	if f.Direct && f.SourceID != nil {
		return models.Invalid("filter.direct", "direct cannot be given with sourceId")
	}
	if len(f.Labels) > MaxFilterLabels {
		return models.Invalid("filter.labels", "at most %d labels", MaxFilterLabels)
	}
	labels, err := cleanLabels(f.Labels)
	if e, ok := models.AsError(err); ok {
		return models.Invalid("filter."+e.Field, "%s", e.Message)
	}
	f.Labels = labels
	if utf8.RuneCountInString(strings.TrimSpace(f.Search)) > MaxFilterSearch {
		return models.Invalid("filter.search", "search is longer than %d characters", MaxFilterSearch)
	}
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		return models.Invalid("filter.to", "to must be after from")
	}
	return nil
}

func (o *Outbox) alertQuery(ctx context.Context, f AlertFilter) *gorm.DB {
	db := o.db.WithContext(ctx)
	q := db.Model(&Alert{})
	if f.Status != nil {
		q = q.Where("status = ?", *f.Status)
	}
	if f.Severity != nil {
		q = q.Where("severity = ?", *f.Severity)
	}
	switch {
	case f.SourceID != nil:
		q = q.Where("source_integration_id = ?", *f.SourceID)
	case f.Direct:
		q = q.Where("source_integration_id IS NULL")
	}
	for _, l := range f.Labels {
		// Labels are stored as JSON, each exactly as json.Marshal writes a Label: its text is a
		// substring of the column, the same test on both databases.
		pair, _ := json.Marshal(l)
		q = q.Where("labels LIKE ? ESCAPE '!'", models.ContainsPattern(string(pair)))
	}
	if cond, pattern := models.FoldedContains(db, "title", f.Search); cond != "" {
		q = q.Where(cond, pattern)
	}
	if f.From != nil {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	return q
}

// newestAlerts orders alerts newest first: created_at, then id, descending.
var newestAlerts = models.Keyset{Columns: []string{"created_at", "id"}, Descending: true}

// Alerts lists the alerts f matches, newest first (created_at, then id, descending).
func (o *Outbox) Alerts(ctx context.Context, f AlertFilter, page models.PageArgs) (models.Page[*Alert], error) {
	if err := page.Check(); err != nil {
		return models.Page[*Alert]{}, err
	}
	if err := f.clean(); err != nil {
		return models.Page[*Alert]{}, err
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
	if err := newestAlerts.Seek(o.alertQuery(ctx, f), page, at).Find(&rows).Error; err != nil {
		return models.Page[*Alert]{}, fmt.Errorf("list alerts: %w", err)
	}
	return models.CutPage(rows, page, func(a *Alert) any { return alertCursor{T: a.CreatedAt, ID: a.ID} }), nil
}

// CountAlerts counts the alerts f matches.
func (o *Outbox) CountAlerts(ctx context.Context, f AlertFilter) (int, error) {
	if err := f.clean(); err != nil {
		return 0, err
	}
	return models.CountRows(o.alertQuery(ctx, f), "alerts")
}

// AlertsByIDs returns the alerts of the request's namespace among ids, in ids' order, nil where an
// id names none.
func (o *Outbox) AlertsByIDs(ctx context.Context, ids []uint) ([]*Alert, error) {
	var rows []*Alert
	if err := o.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}
	return inOrder(ids, rows, func(a *Alert) uint { return a.ID }), nil
}

// DeliveriesByIDs returns the deliveries among ids, in ids' order, nil where an id names none.
func (o *Outbox) DeliveriesByIDs(ctx context.Context, ids []uint) ([]*Delivery, error) {
	var rows []*Delivery
	if err := o.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load deliveries: %w", err)
	}
	return inOrder(ids, rows, func(d *Delivery) uint { return d.ID }), nil
}

func inOrder[T any](ids []uint, rows []*T, id func(*T) uint) []*T {
	byID := make(map[uint]*T, len(rows))
	for _, r := range rows {
		byID[id(r)] = r
	}
	out := make([]*T, len(ids))
	for i, x := range ids {
		out[i] = byID[x]
	}
	return out
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
		c.add(r.Status, r.N)
		out[r.AlertID] = c
	}
	return out, nil
}

// add counts n deliveries in status s.
func (c *DeliveryCounts) add(s DeliveryStatus, n int) {
	c.Total += n
	switch s {
	case DeliveryPending:
		c.Pending += n
	case DeliverySent:
		c.Sent += n
	case DeliveryFailed:
		c.Failed += n
	case DeliveryHeld:
		c.Held += n
	case DeliveryDropped:
		c.Dropped += n
	}
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
