package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
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

// result is the verdict of one message (or the expiry of deliveries never sent) waiting to be
// recorded. The recorder fills fates and err.
type result struct {
	c       *claim
	b       *batch
	outcome string
	res     senders.Result

	fates map[uint]fate
	err   error
}

// change is a delivery's new state. Deliveries given equal changes are updated by one statement.
type change struct {
	status    string
	next      time.Time // zero once final
	lastError string    // cleared when SENT
	attempt   bool      // an HTTP call was made
}

// recordResults stores the verdicts of several sends in one transaction:
//
//   - each delivery's new state, only where the claim token still matches (the rows are locked
//     first, so what is checked is what is updated), with one statement per distinct new state;
//   - one attempt row per delivery (the HTTP call happened even if the lease was lost, so it is
//     history either way), all in one insert;
//   - each message's reserved send moved to now, when its answer is known, in one statement;
//   - the robots' circuit breakers.
//
// Once that has committed, the alerts whose last delivery this was get their final status. Each
// result gets its deliveries' fates, and errLeaseLost if some were claimed again meanwhile; an error
// of the transaction is every result's error, and their deliveries come back when their lease ends.
func (d *Dispatcher) recordResults(ctx context.Context, rs []*result) {
	var opened []senders.Platform
	lost := make([]int, len(rs))
	err := d.transaction(ctx, func(tx *gorm.DB) error {
		opened = nil
		now, err := models.DBNow(tx)
		if err != nil {
			return err
		}
		var ids []uint
		for _, r := range rs {
			for _, it := range r.b.items {
				ids = append(ids, it.d.ID)
			}
		}
		slices.Sort(ids)
		held := make(map[uint]string, len(ids))
		for chunk := range slices.Chunk(slices.Compact(ids), claimRows) {
			var rows []models.Delivery
			err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "claim_token", "status").
				Where("id IN ?", chunk).Order("id").Find(&rows).Error
			if err != nil {
				return fmt.Errorf("lock deliveries: %w", err)
			}
			for _, row := range rows {
				if row.Status == models.DeliveryPending && row.ClaimToken != nil {
					held[row.ID] = *row.ClaimToken
				}
			}
		}
		groups := map[change][]uint{}
		var attempts []models.DeliveryAttempt
		var sends []uint
		for i, r := range rs {
			r.fates, lost[i] = map[uint]fate{}, 0
			errText := errorText(r.res)
			for _, it := range r.b.items {
				if held[it.d.ID] == r.c.token {
					f, ch := d.nextState(it, r.outcome, errText, r.res.RetryAfter, now)
					groups[ch] = append(groups[ch], it.d.ID)
					r.fates[it.d.ID] = f
				} else {
					lost[i]++
				}
				if r.outcome == outcomeExpired {
					continue
				}
				a := models.DeliveryAttempt{
					DeliveryID: it.d.ID, At: now.Add(-r.res.Duration), DurationMs: int(r.res.Duration.Milliseconds()),
					PlatformCode: r.res.PlatformCode, Outcome: r.outcome, Coalesced: len(r.b.items),
				}
				if r.res.HTTPStatus != 0 {
					a.HTTPStatus = &r.res.HTTPStatus
				}
				if errText != "" {
					a.Error = &errText
				}
				attempts = append(attempts, a)
			}
			if r.b.sendID != 0 {
				sends = append(sends, r.b.sendID)
			}
		}
		if err := updateDeliveries(tx, groups, now); err != nil {
			return err
		}
		if len(attempts) > 0 {
			if err := tx.Omit(clause.Associations).CreateInBatches(attempts, claimRows).Error; err != nil {
				return fmt.Errorf("insert attempts: %w", err)
			}
		}
		for chunk := range slices.Chunk(sends, claimRows) {
			err := tx.Model(&models.RobotSend{}).Where("id IN ?", chunk).
				Updates(map[string]any{"sent_at": now, "settled": true}).Error
			if err != nil {
				return fmt.Errorf("settle sends: %w", err)
			}
		}
		opened, err = d.settleRobots(tx, rs, now)
		return err
	})
	if err != nil {
		err = fmt.Errorf("record delivery result: %w", err)
		for _, r := range rs {
			r.fates, r.err = nil, err
		}
		return
	}
	for _, p := range opened {
		d.cfg.Metrics.BreakerOpened(p)
	}
	var finished []uint
	for _, r := range rs {
		for _, it := range r.b.items {
			if f, ok := r.fates[it.d.ID]; ok && f.status != models.DeliveryPending {
				finished = append(finished, it.d.AlertID)
			}
		}
	}
	ferr := models.FinishAlerts(ctx, d.db, finished)
	for i, r := range rs {
		r.err = ferr
		if lost[i] > 0 {
			r.err = errors.Join(ferr, fmt.Errorf("%d of %d deliveries: %w", lost[i], len(r.b.items), errLeaseLost))
		}
	}
}

// updateDeliveries writes each group's change, in a fixed order so that concurrent recorders lock
// rows in the same order.
func updateDeliveries(tx *gorm.DB, groups map[change][]uint, now time.Time) error {
	keys := make([]change, 0, len(groups))
	for ch := range groups {
		keys = append(keys, ch)
	}
	slices.SortFunc(keys, func(a, b change) int { return cmp.Compare(groups[a][0], groups[b][0]) })
	for _, ch := range keys {
		upd := map[string]any{"claim_token": nil, "updated_at": now, "status": ch.status}
		if ch.attempt {
			upd["attempts"] = gorm.Expr("attempts + 1")
		}
		if ch.next.IsZero() {
			upd["next_attempt_at"] = nil
		} else {
			upd["next_attempt_at"] = ch.next
		}
		if ch.status == models.DeliverySent {
			upd["last_error"], upd["sent_at"] = nil, now
		} else {
			upd["last_error"] = ch.lastError
		}
		for chunk := range slices.Chunk(groups[ch], claimRows) {
			if err := tx.Model(&models.Delivery{}).Where("id IN ?", chunk).Updates(upd).Error; err != nil {
				return fmt.Errorf("update deliveries: %w", err)
			}
		}
	}
	return nil
}

// nextState decides a delivery's new state from a verdict.
func (d *Dispatcher) nextState(it *item, outcome, errText string, retryAfter time.Duration, now time.Time) (fate, change) {
	ch := change{attempt: outcome != outcomeExpired}
	deadline := it.d.CreatedAt.Add(d.cfg.MaxAge)
	fail := func(msg string) (fate, change) {
		ch.status, ch.lastError = models.DeliveryFailed, clip(msg)
		return fate{status: models.DeliveryFailed}, ch
	}
	switch outcome {
	case senders.Sent.String():
		ch.status = models.DeliverySent
		return fate{status: models.DeliverySent}, ch
	case senders.Permanent.String():
		return fail(errText)
	case outcomeExpired:
		msg := fmt.Sprintf("not sent within %s of the alert (the robot was paused or over its rate budget)", d.cfg.MaxAge)
		if it.d.LastError != nil {
			msg += "; last error: " + *it.d.LastError
		}
		return fail(msg)
	case outcomeReleased:
		ch.status, ch.next, ch.lastError = models.DeliveryPending, now, clip(errText)
		return fate{status: models.DeliveryPending, next: &now}, ch
	}
	next := now.Add(d.backoff(it.d.Attempts+1, retryAfter))
	if !next.Before(deadline) {
		return fail(fmt.Sprintf("gave up after %d attempts: not delivered within %s of the alert; last error: %s",
			it.d.Attempts+1, d.cfg.MaxAge, errText))
	}
	ch.status, ch.next, ch.lastError = models.DeliveryPending, next, clip(errText)
	return fate{status: models.DeliveryPending, next: &next}, ch
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

// settleRobots updates the circuit breakers of the results' robots. A robot that answered resets
// its failure count, with one statement for all of them that writes (and so waits for) only robots
// that had failures. A robot with a failure or a probe among the results is locked and updated on
// its own, applying its results in the order they came: that is rare, and its state depends on them.
// It returns the platforms of robots whose breaker opened.
func (d *Dispatcher) settleRobots(tx *gorm.DB, rs []*result, now time.Time) ([]senders.Platform, error) {
	byRobot := map[string][]*result{}
	var order []string
	for _, r := range rs {
		if r.outcome == outcomeExpired {
			continue
		}
		if byRobot[r.c.hash] == nil {
			order = append(order, r.c.hash)
		}
		byRobot[r.c.hash] = append(byRobot[r.c.hash], r)
	}
	slices.Sort(order)
	var answered, eventful []string
	for _, h := range order {
		plain, answer := true, false
		for _, r := range byRobot[h] {
			switch r.outcome {
			case senders.Sent.String(), senders.Permanent.String():
				answer = true
				plain = plain && !r.c.probe
			case outcomeReleased:
				plain = plain && !r.c.probe
			default:
				plain = false
			}
		}
		switch {
		case !plain:
			eventful = append(eventful, h)
		case answer:
			answered = append(answered, h)
		}
	}
	for chunk := range slices.Chunk(answered, claimRows) {
		// Whatever was wrong was the message or its configuration: the robot itself answered.
		err := tx.Model(&models.Robot{}).Where("url_hash IN ? AND failures <> 0", chunk).
			Updates(map[string]any{"failures": 0, "updated_at": now}).Error
		if err != nil {
			return nil, fmt.Errorf("reset robot failures: %w", err)
		}
	}
	var opened []senders.Platform
	for _, h := range eventful {
		var robots []models.Robot
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("url_hash = ?", h).Find(&robots).Error; err != nil {
			return nil, fmt.Errorf("lock robot: %w", err)
		}
		if len(robots) == 0 {
			continue
		}
		r := robots[0]
		for _, x := range byRobot[h] {
			if d.breaker(&r, x, now) {
				opened = append(opened, x.c.platform)
			}
		}
		err := tx.Model(&models.Robot{}).Where("url_hash = ?", h).
			Updates(map[string]any{"failures": r.Failures, "paused_until": r.PausedUntil, "updated_at": now}).Error
		if err != nil {
			return nil, fmt.Errorf("update robot: %w", err)
		}
	}
	return opened, nil
}

// breaker applies one verdict to a robot's circuit breaker and reports whether it opened.
func (d *Dispatcher) breaker(r *models.Robot, x *result, now time.Time) bool {
	switch x.outcome {
	case senders.Sent.String(), senders.Permanent.String():
		r.Failures = 0
		if x.c.probe {
			r.PausedUntil = nil
		}
	case senders.Retryable.String():
		r.Failures++
		var until time.Time
		if x.res.RetryAfter > 0 {
			until = now.Add(x.res.RetryAfter)
		}
		opened := r.Failures >= d.cfg.BreakerThreshold
		if opened {
			if cool := now.Add(d.cfg.BreakerCooldown); cool.After(until) {
				until = cool
			}
		}
		if !until.IsZero() && (r.PausedUntil == nil || r.PausedUntil.Before(until) || x.c.probe) {
			r.PausedUntil = &until
		}
		return opened
	case outcomeReleased:
		if x.c.probe {
			r.PausedUntil = nil
		}
	}
	return false
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
