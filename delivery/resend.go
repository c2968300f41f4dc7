package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/models"
	"gorm.io/gorm"
)

// A person fixing a robot (a new keyword, a re-enabled bot) wants its failed messages sent now,
// not another alert: retryDelivery and retryFailedDeliveries make FAILED deliveries due again.
// The retry is an ordinary next attempt of the same delivery, so its call lands in the delivery's
// attempts beside the ones that failed, under the robot's budget and breaker like any other.

// RetryDelivery makes one FAILED delivery of the request's namespace due again and returns it.
func (o *Outbox) RetryDelivery(ctx context.Context, id string) (*Delivery, error) {
	did, ok := models.ParseID(id)
	if !ok {
		return nil, models.NotFound("id", "delivery", id)
	}
	var d Delivery
	if err := o.db.WithContext(ctx).First(&d, did).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, models.NotFound("id", "delivery", id)
		}
		return nil, fmt.Errorf("load delivery: %w", err)
	}
	// Deliveries carry no namespace: their alert's, read through the namespace scope, decides.
	if _, err := o.Alert(ctx, models.FormatID(d.AlertID)); err != nil {
		if models.IsNotFound(err) {
			return nil, models.NotFound("id", "delivery", id)
		}
		return nil, err
	}
	n, err := o.retry(ctx, d.AlertID, []uint{d.ID}, "retryDelivery")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, models.Invalid("id", "delivery %s is %s: only a FAILED delivery can be retried", id, d.Status)
	}
	if err := o.db.WithContext(ctx).First(&d, did).Error; err != nil {
		return nil, fmt.Errorf("reload delivery: %w", err)
	}
	return &d, nil
}

// RetryFailed makes every FAILED delivery of one alert of the request's namespace due again and
// returns the alert.
func (o *Outbox) RetryFailed(ctx context.Context, alertID string) (*Alert, error) {
	a, err := o.Alert(ctx, alertID)
	if err != nil {
		return nil, models.AtField("alertId", err)
	}
	n, err := o.retry(ctx, a.ID, nil, "retryFailedDeliveries")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, models.Invalid("alertId", "alert %s has no FAILED delivery to retry", alertID)
	}
	return o.Alert(ctx, alertID)
}

// retry makes the alert's FAILED deliveries among ids (all of them when ids is nil) due now, with a
// fresh max age, and the alert PENDING again, in one transaction with its audit entry. It reports
// how many deliveries it changed: a delivery that is not FAILED (any more) is left alone.
func (o *Outbox) retry(ctx context.Context, alertID uint, ids []uint, operation string) (int64, error) {
	var changed int64
	err := queueTx(ctx, o.db, func(tx *gorm.DB) error {
		now, err := dbNow(tx)
		if err != nil {
			return err
		}
		q := tx.Model(&Delivery{}).Where("alert_id = ? AND status = ?", alertID, DeliveryFailed)
		if ids != nil {
			q = q.Where("id IN ?", ids)
		}
		var retried []uint
		if err := q.Clauses(forUpdate).Order("id").Pluck("id", &retried).Error; err != nil {
			return fmt.Errorf("find failed deliveries: %w", err)
		}
		changed = int64(len(retried))
		if changed == 0 {
			return nil
		}
		if err := updateIn(tx, &Delivery{}, "id", retried, "retry deliveries", map[string]any{
			"status": DeliveryPending, "next_attempt_at": now, "retried_at": now, "updated_at": now,
		}); err != nil {
			return err
		}
		// The alert is PENDING until the retried deliveries settle; finishAlerts then gives it its
		// status again.
		if err := tx.Model(&Alert{}).Where("id = ?", alertID).
			Updates(map[string]any{"status": AlertPending, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("reopen alert: %w", err)
		}
		return models.Audit(ctx, tx, operation, models.FormatIDs(retried))
	})
	if err != nil {
		return 0, wrapAlertErr("retry deliveries", err)
	}
	return changed, nil
}
