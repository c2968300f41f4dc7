package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// errLeaseLost is returned when a result could not be recorded because the claim token no longer
// matches: the lease ran out and another worker claimed the delivery, so that worker's result counts.
var errLeaseLost = errors.New("lease lost: the delivery was claimed again by another worker")

// result is the verdict of one message (or the expiry of deliveries never sent) waiting to be
// recorded. The recorder fills fates and err.
type result struct {
	c       *claim
	b       *batch
	outcome senders.Outcome
	res     senders.Result

	fates map[uint]fate
	err   error
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
// of the transaction is every result's error, and is returned so that the recorder can hold the
// results through an outage.
func (d *Dispatcher) recordResults(ctx context.Context, rs []*result) error {
	var opened []senders.Platform
	lost := make([]int, len(rs))
	err := queueTx(ctx, d.db, func(tx *gorm.DB) error {
		opened = nil
		now, err := dbNow(tx)
		if err != nil {
			return err
		}
		var ids []uint
		for _, r := range rs {
			for _, it := range r.b.items {
				ids = append(ids, it.d.ID)
			}
		}
		held, err := lockClaims(tx, ids)
		if err != nil {
			return err
		}
		groups := map[fate][]uint{}
		var attempts []DeliveryAttempt
		var sends []uint
		for i, r := range rs {
			r.fates, lost[i] = map[uint]fate{}, 0
			errText := errorText(r.res)
			for _, it := range r.b.items {
				if held[it.d.ID] == r.c.token {
					f := d.policy.nextState(&it.d, r.outcome, errText, r.res.RetryAfter, now)
					groups[f] = append(groups[f], it.d.ID)
					r.fates[it.d.ID] = f
				} else {
					lost[i]++
				}
				if r.outcome == Expired {
					continue
				}
				a := DeliveryAttempt{
					DeliveryID: it.d.ID, At: now.Add(-r.res.Duration), DurationMs: int(r.res.Duration.Milliseconds()),
					PlatformCode: r.res.PlatformCode, Outcome: r.outcome, Coalesced: len(r.b.items),
				}
				if r.outcome == Dropped {
					a.Coalesced = 1 // dropped together, but no call was shared
				}
				if r.res.HTTPStatus != 0 {
					a.HTTPStatus = &r.res.HTTPStatus
				}
				if errText != "" {
					a.Error = &errText
				}
				a.Note = attemptNote(it.alert, &it.d, r.res)
				attempts = append(attempts, a)
			}
			if len(r.b.sendIDs) > 0 {
				sends = append(sends, r.b.sendIDs...)
			}
		}
		if err := settleDeliveries(tx, groups, now); err != nil {
			return err
		}
		if err := insertAttempts(tx, attempts); err != nil {
			return err
		}
		if err := settleSends(tx, sends, now); err != nil {
			return err
		}
		opened, err = d.settleRobots(tx, rs, now)
		return err
	})
	if err != nil {
		err = fmt.Errorf("record delivery result: %w", err)
		for _, r := range rs {
			r.fates, r.err = nil, err
		}
		return err
	}
	for _, p := range opened {
		d.cfg.Metrics.BreakerOpened(p)
	}
	var finished []uint
	for _, r := range rs {
		for _, it := range r.b.items {
			if f, ok := r.fates[it.d.ID]; ok && f.status != DeliveryPending {
				finished = append(finished, it.d.AlertID)
			}
		}
	}
	ferr := finishAlerts(ctx, d.db, finished)
	for i, r := range rs {
		r.err = ferr
		if lost[i] > 0 {
			r.err = errors.Join(ferr, fmt.Errorf("%d of %d deliveries: %w", lost[i], len(r.b.items), errLeaseLost))
		}
	}
	return nil
}

// lockClaims locks the deliveries and returns the claim token of each that is still pending under
// a claim.
func lockClaims(tx *gorm.DB, ids []uint) (map[uint]string, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	held := make(map[uint]string, len(ids))
	for chunk := range slices.Chunk(ids, claimRows) {
		var rows []Delivery
		err := tx.Clauses(forUpdate).Select("id", "claim_token", "status").
			Where("id IN ?", chunk).Order("id").Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("lock deliveries: %w", err)
		}
		for _, row := range rows {
			if row.Status == DeliveryPending && row.ClaimToken != nil {
				held[row.ID] = *row.ClaimToken
			}
		}
	}
	return held, nil
}

// settleRobots updates the circuit breakers of the results' robots. A robot that answered resets
// its failure count, with one statement for all of them. A robot with a failure or a probe among
// the results is locked and updated on its own, applying its results in the order they came: that
// is rare, and its state depends on them. It returns the platforms of robots whose breaker opened.
func (d *Dispatcher) settleRobots(tx *gorm.DB, rs []*result, now time.Time) ([]senders.Platform, error) {
	byRobot := map[string][]*result{}
	var order []string
	for _, r := range rs {
		if r.outcome == Expired || r.outcome == Dropped {
			continue // no request was made: the robot said nothing
		}
		if byRobot[r.c.key] == nil {
			order = append(order, r.c.key)
		}
		byRobot[r.c.key] = append(byRobot[r.c.key], r)
	}
	slices.Sort(order)
	var answered, eventful []string
	for _, k := range order {
		plain, answer := true, false
		for _, r := range byRobot[k] {
			switch r.outcome {
			case senders.Sent, senders.Permanent:
				answer = true
				plain = plain && !r.c.probe
			case Released:
				plain = plain && !r.c.probe
			default:
				plain = false
			}
		}
		switch {
		case !plain:
			eventful = append(eventful, k)
		case answer:
			answered = append(answered, k)
		}
	}
	// Whatever was wrong was the message or its configuration: the robot itself answered.
	if err := resetRobotFailures(tx, answered, now); err != nil {
		return nil, err
	}
	var opened []senders.Platform
	for _, k := range eventful {
		var robots []RobotState
		if err := tx.Clauses(forUpdate).Where("url_hash = ?", k).Find(&robots).Error; err != nil {
			return nil, fmt.Errorf("lock robot: %w", err)
		}
		if len(robots) == 0 {
			continue
		}
		r := robots[0]
		for _, x := range byRobot[k] {
			if d.policy.breaker(&r, x.outcome, x.res.RetryAfter, x.c.probe, now) {
				opened = append(opened, x.c.platform)
			}
		}
		if err := saveBreaker(tx, r, now); err != nil {
			return nil, err
		}
	}
	return opened, nil
}

// attemptNote is what an attempt's reader should know beside its verdict: the alert's failed
// template and what the sender noted.
func attemptNote(a *Alert, d *Delivery, res senders.Result) *string {
	var notes []string
	if note := d.holdNote(); note != "" {
		notes = append(notes, note)
	}
	if a.TemplateError != nil {
		notes = append(notes, *a.TemplateError+"; sent in the default layout")
	}
	notes = append(notes, res.Notes...)
	if len(notes) == 0 {
		return nil
	}
	s := strings.Join(notes, "; ")
	if len(s) > 2000 {
		s = strings.ToValidUTF8(s[:2000], "") + "…"
	}
	return &s
}
