package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Verdicts that are not a platform's answer.
const (
	// outcomeExpired: the delivery outlived MaxAge without being sent; no request was made.
	outcomeExpired = "EXPIRED"
	// outcomeReleased: shutdown cut the request short; the delivery is due again at once.
	outcomeReleased = "RELEASED"
)

// errLeaseLost is returned when a result could not be recorded because the claim token no longer
// matches: the lease ran out and another worker claimed the delivery, so that worker's result counts.
var errLeaseLost = errors.New("lease lost: the delivery was claimed again by another worker")

// maxErrorBytes keeps stored error text within its column on both databases.
const maxErrorBytes = 2000

// fate is what recording did to one delivery.
type fate struct {
	status string
	next   *time.Time
}

// record stores the verdict of one send (or of an expiry) for the claimed deliveries, all in one
// transaction: each delivery's new state, fenced by the claim token, and one attempt row per
// delivery (the HTTP call happened even if the lease was lost, so it is history either way). Once
// that has committed, the alerts whose last delivery this was get their final status.
func (d *Dispatcher) record(ctx context.Context, token string, items []*item, outcome string, res senders.Result) (map[uint]fate, error) {
	var fates map[uint]fate
	lost := 0
	alertIDs := make([]uint, 0, len(items))
	for _, it := range items {
		alertIDs = append(alertIDs, it.d.AlertID)
	}
	err := d.transaction(ctx, func(tx *gorm.DB) error {
		fates, lost = map[uint]fate{}, 0
		now, err := models.DBNow(tx)
		if err != nil {
			return err
		}
		errText := errorText(res)
		attempts := make([]models.DeliveryAttempt, 0, len(items))
		for _, it := range items {
			f, upd := d.nextState(it, outcome, errText, res.RetryAfter, now)
			q := tx.Model(&models.Delivery{}).
				Where("id = ? AND claim_token = ? AND status = ?", it.d.ID, token, models.DeliveryPending).Updates(upd)
			if q.Error != nil {
				return fmt.Errorf("update delivery: %w", q.Error)
			}
			if q.RowsAffected == 0 {
				lost++
			} else {
				fates[it.d.ID] = f
			}
			if outcome == outcomeExpired {
				continue
			}
			a := models.DeliveryAttempt{
				DeliveryID: it.d.ID, At: now.Add(-res.Duration), DurationMs: int(res.Duration.Milliseconds()),
				PlatformCode: res.PlatformCode, Outcome: outcome, Coalesced: len(items),
			}
			if res.HTTPStatus != 0 {
				a.HTTPStatus = &res.HTTPStatus
			}
			if errText != "" {
				a.Error = &errText
			}
			attempts = append(attempts, a)
		}
		if len(attempts) > 0 {
			if err := tx.Omit(clause.Associations).CreateInBatches(attempts, 200).Error; err != nil {
				return fmt.Errorf("insert attempts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record delivery result: %w", err)
	}
	if err := models.FinishAlerts(ctx, d.db, alertIDs); err != nil {
		return fates, err
	}
	if lost > 0 {
		return fates, fmt.Errorf("%d of %d deliveries: %w", lost, len(items), errLeaseLost)
	}
	return fates, nil
}

// nextState decides a delivery's new state from a verdict.
func (d *Dispatcher) nextState(it *item, outcome, errText string, retryAfter time.Duration, now time.Time) (fate, map[string]any) {
	upd := map[string]any{"claim_token": nil, "updated_at": now}
	if outcome != outcomeExpired {
		upd["attempts"] = gorm.Expr("attempts + 1")
	}
	deadline := it.d.CreatedAt.Add(d.cfg.MaxAge)
	fail := func(msg string) (fate, map[string]any) {
		upd["status"], upd["next_attempt_at"], upd["last_error"] = models.DeliveryFailed, nil, clip(msg)
		return fate{status: models.DeliveryFailed}, upd
	}
	switch outcome {
	case senders.Sent.String():
		upd["status"], upd["next_attempt_at"], upd["last_error"], upd["sent_at"] = models.DeliverySent, nil, nil, now
		return fate{status: models.DeliverySent}, upd
	case senders.Permanent.String():
		return fail(errText)
	case outcomeExpired:
		msg := fmt.Sprintf("not sent within %s of the alert (the robot was paused or over its rate budget)", d.cfg.MaxAge)
		if it.d.LastError != nil {
			msg += "; last error: " + *it.d.LastError
		}
		return fail(msg)
	case outcomeReleased:
		upd["next_attempt_at"], upd["last_error"] = now, clip(errText)
		return fate{status: models.DeliveryPending, next: &now}, upd
	}
	next := now.Add(d.backoff(it.d.Attempts+1, retryAfter))
	if !next.Before(deadline) {
		return fail(fmt.Sprintf("gave up after %d attempts: not delivered within %s of the alert; last error: %s",
			it.d.Attempts+1, d.cfg.MaxAge, errText))
	}
	upd["next_attempt_at"], upd["last_error"] = next, clip(errText)
	return fate{status: models.DeliveryPending, next: &next}, upd
}

// backoff is the delay before retry number attempt+1: exponential from RetryBase, capped at
// RetryCap, with jitter so that robots failing together do not retry together, and never sooner
// than the platform asked.
func (d *Dispatcher) backoff(attempt int, retryAfter time.Duration) time.Duration {
	delay := d.cfg.RetryCap
	if attempt <= 30 {
		delay = min(d.cfg.RetryBase<<(attempt-1), d.cfg.RetryCap)
	}
	delay = delay/2 + rand.N(delay/2+1)
	return max(delay, retryAfter)
}

// settle finishes a message's bookkeeping on its robot: the reserved send is moved to the time its
// answer came back, and the circuit breaker is updated. It runs after the result is recorded, in its
// own transaction, so that the only lock a claim may wait for is never held while waiting.
func (d *Dispatcher) settle(ctx context.Context, c *claim, b *batch, outcome string, res senders.Result) error {
	opened := false
	err := d.transaction(ctx, func(tx *gorm.DB) error {
		opened = false
		now, err := models.DBNow(tx)
		if err != nil {
			return err
		}
		err = tx.Model(&models.RobotSend{}).Where("id = ?", b.sendID).
			Updates(map[string]any{"sent_at": now, "settled": true}).Error
		if err != nil {
			return fmt.Errorf("settle send: %w", err)
		}
		var robots []models.Robot
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("url_hash = ?", c.hash).Find(&robots).Error; err != nil {
			return fmt.Errorf("lock robot: %w", err)
		}
		if len(robots) == 0 {
			return nil
		}
		r := robots[0]
		switch outcome {
		case senders.Sent.String(), senders.Permanent.String():
			// The robot answered: whatever was wrong was the message or its configuration.
			r.Failures = 0
			if c.probe {
				r.PausedUntil = nil
			}
		case senders.Retryable.String():
			r.Failures++
			var until time.Time
			if res.RetryAfter > 0 {
				until = now.Add(res.RetryAfter)
			}
			if r.Failures >= d.cfg.BreakerThreshold {
				opened = true
				if cool := now.Add(d.cfg.BreakerCooldown); cool.After(until) {
					until = cool
				}
			}
			if !until.IsZero() && (r.PausedUntil == nil || r.PausedUntil.Before(until) || c.probe) {
				r.PausedUntil = &until
			}
		case outcomeReleased:
			if c.probe {
				r.PausedUntil = nil
			}
		}
		return tx.Model(&models.Robot{}).Where("url_hash = ?", c.hash).
			Updates(map[string]any{"failures": r.Failures, "paused_until": r.PausedUntil, "updated_at": now}).Error
	})
	if err != nil {
		return fmt.Errorf("settle robot: %w", err)
	}
	if opened {
		d.cfg.Metrics.BreakerOpened(c.platform)
	}
	return nil
}

func errorText(res senders.Result) string {
	if res.Err == nil {
		return ""
	}
	return clip(res.Err.Error())
}

// clip cuts s to maxErrorBytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxErrorBytes {
		return s
	}
	n := maxErrorBytes
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
