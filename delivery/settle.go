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
	WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ?) THEN ?
	WHEN NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ?) THEN ?
	ELSE ? END
WHERE alerts.id IN ? AND alerts.status = ?
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ?)`

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
	err := db.WithContext(ctx).Exec(finishAlertSQL, nowExpr(db),
		DeliveryFailed, AlertDelivered, DeliverySent, AlertFailed, AlertPartiallyDelivered,
		ids, AlertPending, DeliveryPending).Error
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
		Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status = ?)", DeliveryPending).
		Limit(1000).Pluck("id", &ids).Error
	if err != nil {
		return fmt.Errorf("find finished alerts: %w", err)
	}
	return finishAlerts(ctx, db, ids)
}
