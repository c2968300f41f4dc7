package delivery

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Every statement that writes the outbox's rows is one of the typed functions below, so the rest of
// the package speaks of alerts, leases, deferrals and verdicts rather than of columns (River keeps
// its queue behind a driver layer the same way). Each takes any number of rows, chunked, so a
// fan-out costs a statement per kind of change, not one per row.

// insertAlert writes an alert and its deliveries, due now.
func insertAlert(tx *gorm.DB, a *Alert, deliveries []Delivery, now time.Time) error {
	if err := tx.Create(a).Error; err != nil {
		return err // a duplicate idempotency key is recognised by the caller
	}
	for i := range deliveries {
		d := &deliveries[i]
		d.AlertID, d.CreatedAt, d.UpdatedAt = a.ID, now, now
		if d.Status != DeliveryHeld {
			d.Status, d.NextAttemptAt = DeliveryPending, &now
		}
	}
	if len(deliveries) == 0 {
		return nil
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(deliveries, 200).Error; err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}

// insertRobots adds robot rows, leaving any that exist meanwhile as they are. They are sorted, so
// that two transactions creating the same robots lock them in the same order.
func insertRobots(tx *gorm.DB, robots []RobotState) error {
	if len(robots) == 0 {
		return nil
	}
	slices.SortFunc(robots, func(a, b RobotState) int { return cmp.Compare(a.RobotKey, b.RobotKey) })
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(robots, 500).Error; err != nil {
		return fmt.Errorf("insert robots: %w", err)
	}
	return nil
}

// insertSends reserves rows of the robots' send logs.
func insertSends(tx *gorm.DB, sends []RobotSend) error {
	if err := tx.CreateInBatches(sends, claimRows).Error; err != nil {
		return fmt.Errorf("reserve sends: %w", err)
	}
	return nil
}

// pruneSends deletes the robots' send-log rows from before a time, too old for any budget.
func pruneSends(tx *gorm.DB, keys []string, before time.Time) error {
	if err := tx.Where("url_hash IN ? AND sent_at < ?", keys, before).Delete(&RobotSend{}).Error; err != nil {
		return fmt.Errorf("prune send log: %w", err)
	}
	return nil
}

// skipLocked is the claim's locking clause. On MySQL a row another replica holds is skipped instead
// of waited for, so replicas never claim the same robot or delivery and never queue behind each other;
// the SQLite dialector drops it (there, transactions are serial anyway).
var skipLocked = clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}

// forUpdate locks the rows a statement reads until the transaction ends.
var forUpdate = clause.Locking{Strength: "UPDATE"}

// leaseDeliveries gives the deliveries to a claim: its token fences every other worker, and their
// next attempt is the end of the lease, when they are due again if the claim's worker died.
func leaseDeliveries(tx *gorm.DB, ids []uint, token string, until, now time.Time) error {
	return updateIn(tx, &Delivery{}, "id", ids, "lease deliveries",
		map[string]any{"claim_token": token, "next_attempt_at": until, "updated_at": now})
}

// deferDeliveries moves deliveries' next attempt without using an attempt, one statement per time.
func deferDeliveries(tx *gorm.DB, until map[time.Time][]uint, now time.Time) error {
	for t, ids := range until {
		if err := updateIn(tx, &Delivery{}, "id", ids, "defer deliveries",
			map[string]any{"next_attempt_at": t.UTC(), "updated_at": now}); err != nil {
			return err
		}
	}
	return nil
}

// fate is a delivery's new state after a verdict. Deliveries given equal fates are updated by one
// statement.
type fate struct {
	status DeliveryStatus
	// next is when it is due again; zero once final.
	next      time.Time
	lastError string // cleared when SENT
	attempted bool   // an HTTP call was made
}

// settleDeliveries writes each group's fate and ends its claim, in a fixed order so that concurrent
// recorders lock rows in the same order.
func settleDeliveries(tx *gorm.DB, groups map[fate][]uint, now time.Time) error {
	fates := make([]fate, 0, len(groups))
	for f := range groups {
		fates = append(fates, f)
	}
	slices.SortFunc(fates, func(a, b fate) int { return cmp.Compare(groups[a][0], groups[b][0]) })
	for _, f := range fates {
		set := map[string]any{"claim_token": nil, "updated_at": now, "status": f.status, "next_attempt_at": nil}
		if f.attempted {
			set["attempts"] = gorm.Expr("attempts + 1")
		}
		if !f.next.IsZero() {
			set["next_attempt_at"] = f.next
		}
		if f.status == DeliverySent {
			set["last_error"], set["sent_at"] = nil, now
		} else {
			set["last_error"] = f.lastError
		}
		if err := updateIn(tx, &Delivery{}, "id", groups[f], "update deliveries", set); err != nil {
			return err
		}
	}
	return nil
}

// insertAttempts adds attempt rows to the history.
func insertAttempts(tx *gorm.DB, attempts []DeliveryAttempt) error {
	if len(attempts) == 0 {
		return nil
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(attempts, claimRows).Error; err != nil {
		return fmt.Errorf("insert attempts: %w", err)
	}
	return nil
}

// settleSends moves reserved sends to now, when their answers are known.
func settleSends(tx *gorm.DB, ids []uint, now time.Time) error {
	return updateIn(tx, &RobotSend{}, "id", ids, "settle sends", map[string]any{"sent_at": now, "settled": true})
}

// renewLeases moves the leases of the deliveries still held under the claim tokens (a delivery
// recorded, or claimed again by another replica, no longer carries one of them), and the pause of
// the robots whose probe is in flight, to until. A pause is only ever extended: once a probe's
// verdict closed the breaker (no pause) or reopened it (a longer cooldown), its robot is left alone.
func renewLeases(tx *gorm.DB, ids []uint, tokens, probes []string, until, now time.Time) error {
	if err := updateIn(tx, &Delivery{}, "id", ids, "renew leases",
		map[string]any{"next_attempt_at": until, "updated_at": now}, "claim_token IN ? AND status = ?", tokens, DeliveryPending); err != nil {
		return err
	}
	return updateIn(tx, &RobotState{}, "url_hash", probes, "renew probes",
		map[string]any{"paused_until": until, "updated_at": now}, "paused_until IS NOT NULL AND paused_until < ?", until)
}

// holdRobots keeps robots paused until a time: every other claim stays off them until then.
func holdRobots(tx *gorm.DB, keys []string, until, now time.Time) error {
	return updateIn(tx, &RobotState{}, "url_hash", keys, "hold robots", map[string]any{"paused_until": until, "updated_at": now})
}

// resetRobotFailures clears the failure count of robots that answered. It writes, and so waits for,
// only robots that had failures.
func resetRobotFailures(tx *gorm.DB, keys []string, now time.Time) error {
	return updateIn(tx, &RobotState{}, "url_hash", keys, "reset robot failures", map[string]any{"failures": 0, "updated_at": now}, "failures <> 0")
}

// saveBreaker stores one robot's circuit breaker.
func saveBreaker(tx *gorm.DB, r RobotState, now time.Time) error {
	return updateIn(tx, &RobotState{}, "url_hash", []string{r.RobotKey}, "update robot",
		map[string]any{"failures": r.Failures, "paused_until": r.PausedUntil, "updated_at": now})
}

// updateIn applies set to the rows of model whose column col is one of keys (and that meet the
// condition where, when given), a chunk of keys per statement.
func updateIn[K any](tx *gorm.DB, model any, col string, keys []K, what string, set map[string]any, where ...any) error {
	for chunk := range slices.Chunk(keys, claimRows) {
		q := tx.Model(model).Where(col+" IN ?", chunk)
		if len(where) > 0 {
			q = q.Where(where[0], where[1:]...)
		}
		if err := q.Updates(set).Error; err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
