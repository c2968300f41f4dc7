package delivery

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// finishAlertSQL settles an alert once none of its deliveries is pending, computing its final
// status from its deliveries in the same statement. It matches nothing while a delivery is pending,
// so running it again, or from two workers at once, is harmless.
const finishAlertSQL = `UPDATE alerts SET updated_at = ?, status = CASE
	WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status IN ?) THEN ?
	WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ?) THEN ?
	WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ?) THEN ?
	ELSE ? END
WHERE alerts.id IN ? AND alerts.status = ?
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status IN ?)`

// finishAlerts gives each of the alerts its final status if its last pending delivery is settled.
//
// Call it after the transaction that settled deliveries has committed, never inside it. Whichever
// worker commits the last pending delivery of an alert then necessarily sees all the others
// committed, so the alert cannot stay PENDING; and no worker has to lock the alert row while it
// records, which would serialise every delivery of a large fan-out behind one lock.
func finishAlerts(ctx context.Context, db *gorm.DB, alertIDs []uint) error {
	if len(alertIDs) == 0 {
		return nil
	}
	ids := slices.Clone(alertIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// Dropped deliveries count for neither side: an alert whose others were all sent is
	// DELIVERED, one with nothing but dropped ones DROPPED.
	err := db.WithContext(ctx).Exec(finishAlertSQL, nowExpr(db),
		[]DeliveryStatus{DeliveryFailed, DeliverySent}, AlertDropped,
		DeliveryFailed, AlertDelivered, DeliverySent, AlertFailed, AlertPartiallyDelivered,
		ids, AlertPending, []DeliveryStatus{DeliveryPending, DeliveryHeld}).Error
	if err != nil {
		return fmt.Errorf("finish alerts: %w", err)
	}
	return nil
}

// sweepFinishedAlerts settles alerts left PENDING with no pending delivery, which happens only when
// a process died between recording a delivery's result and finishing its alert.
func sweepFinishedAlerts(ctx context.Context, db *gorm.DB) error {
	var ids []uint
	err := db.WithContext(ctx).Model(&Alert{}).Where("status = ?", AlertPending).
		Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status IN ?)", []DeliveryStatus{DeliveryPending, DeliveryHeld}).
		Limit(1000).Pluck("id", &ids).Error
	if err != nil {
		return fmt.Errorf("find finished alerts: %w", err)
	}
	return finishAlerts(ctx, db, ids)
}

// releaseHeld makes the held deliveries whose quiet hours have ended due now. One statement does
// it for all of them, so that whichever replica runs it first releases each exactly once; the
// claim then packs a robot's released digest deliveries into one message, or records the dropped
// ones, under the robot's lock like any other due work.
func releaseHeld(ctx context.Context, db *gorm.DB) error {
	now := nowExpr(db)
	err := db.WithContext(ctx).Model(&Delivery{}).Where("status = ? AND next_attempt_at <= ?", DeliveryHeld, now).
		Updates(map[string]any{"status": DeliveryPending, "next_attempt_at": now, "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("release held deliveries: %w", err)
	}
	return nil
}
