package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// skipLocked is the claim's locking clause. On MySQL a row another replica holds is skipped instead
// of waited for, so replicas never claim the same robot or delivery and never queue behind each other;
// the SQLite dialector drops it (there, transactions are serial anyway).
var skipLocked = clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}

// claim is what one worker took for one robot in one transaction.
type claim struct {
	token    string
	hash     string
	platform senders.Platform
	batches  []*batch
	// expired deliveries are past MaxAge; they are failed without a send.
	expired []*item
	// probe is set when the robot's circuit breaker is half open and this claim sends its one probe.
	probe bool
	// more is set when due deliveries were left for a next claim.
	more bool
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// claimRobot takes the due deliveries of one robot, within its rate budget, in one short
// transaction that never waits for a network call:
//
//  1. lock the robot's row (SKIP LOCKED: another replica serving it means nothing to do here);
//  2. lock its due deliveries, oldest first (SKIP LOCKED);
//  3. if the robot is paused or out of budget, push those deliveries' next_attempt_at to when it can
//     send again, without using an attempt, so they stop matching the poll until then;
//  4. otherwise pack them into at most as many messages as the budget allows, reserve one send-log
//     row per message, and lease the deliveries to a fresh claim token.
//
// A nil claim means nothing was taken.
func (d *Dispatcher) claimRobot(ctx context.Context, hash string) (*claim, error) {
	var c *claim
	err := d.transaction(ctx, func(tx *gorm.DB) error {
		c = nil
		now, err := models.DBNow(tx)
		if err != nil {
			return err
		}
		var robots []models.Robot
		if err := tx.Clauses(skipLocked).Where("url_hash = ?", hash).Find(&robots).Error; err != nil {
			return fmt.Errorf("lock robot: %w", err)
		}
		if len(robots) == 0 {
			return d.restoreRobot(tx, hash, now)
		}
		r := robots[0]
		var due []models.Delivery
		err = tx.Clauses(skipLocked).
			Where("url_hash = ? AND status = ? AND next_attempt_at <= ?", hash, models.DeliveryPending, now).
			Order("next_attempt_at, id").Limit(d.cfg.BatchSize).Find(&due).Error
		if err != nil {
			return fmt.Errorf("lock due deliveries: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		items, err := withAlerts(tx, due)
		if err != nil {
			return err
		}
		c = &claim{token: newToken(), hash: hash, platform: r.Platform, more: len(due) == d.cfg.BatchSize}
		var live []*item
		for _, it := range items {
			if !now.Before(it.d.CreatedAt.Add(d.cfg.MaxAge)) {
				c.expired = append(c.expired, it)
			} else {
				live = append(live, it)
			}
		}
		if err := d.plan(tx, c, r, live, now); err != nil {
			return err
		}
		var ids []uint
		for _, b := range c.batches {
			for _, it := range b.items {
				ids = append(ids, it.d.ID)
			}
		}
		for _, it := range c.expired {
			ids = append(ids, it.d.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		lease := now.Add(d.cfg.Lease)
		err = tx.Model(&models.Delivery{}).Where("id IN ?", ids).
			Updates(map[string]any{"claim_token": c.token, "next_attempt_at": lease, "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		for _, b := range c.batches {
			row := models.RobotSend{URLHash: hash, SentAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("reserve send: %w", err)
			}
			b.sendID = row.ID
		}
		if c.probe && len(c.batches) > 0 {
			// Holding the robot paused for the lease keeps every other claim off it until the probe's
			// verdict closes or reopens the breaker.
			err := tx.Model(&models.Robot{}).Where("url_hash = ?", hash).
				Updates(map[string]any{"paused_until": lease, "updated_at": now}).Error
			if err != nil {
				return fmt.Errorf("hold robot for probe: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if c != nil && len(c.batches) == 0 && len(c.expired) == 0 {
		more := c.more
		c = &claim{hash: hash, more: more}
	}
	return c, nil
}

// plan decides, under the robot's lock, what happens to its live due deliveries now.
func (d *Dispatcher) plan(tx *gorm.DB, c *claim, r models.Robot, live []*item, now time.Time) error {
	if len(live) == 0 {
		return nil
	}
	if r.PausedUntil != nil && r.PausedUntil.After(now) {
		return d.deferItems(tx, c, live, *r.PausedUntil, now, "paused")
	}
	windows := d.cfg.Budgets[r.Platform]
	var longest time.Duration
	for _, w := range windows {
		longest = max(longest, w.Span)
	}
	var log []models.RobotSend
	err := tx.Where("url_hash = ? AND sent_at > ?", r.URLHash, now.Add(-max(longest, d.cfg.Lease))).Find(&log).Error
	if err != nil {
		return fmt.Errorf("read send log: %w", err)
	}
	sends := make([]sent, len(log))
	for i, s := range log {
		sends[i] = sent{at: s.SentAt, settled: s.Settled}
	}
	b := computeBudget(windows, sends, now, d.cfg.Lease)
	if b.avail <= 0 {
		return d.deferItems(tx, c, live, b.freeAt, now, "budget")
	}
	spend := b.spend
	c.probe = r.Failures >= d.cfg.BreakerThreshold
	if c.probe {
		spend = 1
	} else if b.low {
		// Once the reserve is reached each message is precious: wait a little for more alerts to
		// arrive, so the next message carries them all, rather than spend it on the first one.
		oldest := live[0].d.CreatedAt
		for _, it := range live {
			if it.d.CreatedAt.Before(oldest) {
				oldest = it.d.CreatedAt
			}
		}
		until := oldest.Add(d.cfg.Linger)
		// Join a wait already under way for this robot (a linger, a retry, a budget deferral), so
		// that alerts arriving during it leave in the same message instead of each starting its own.
		var waiting []models.Delivery
		err := tx.Select("next_attempt_at").
			Where("url_hash = ? AND status = ? AND next_attempt_at > ? AND claim_token IS NULL", r.URLHash, models.DeliveryPending, now).
			Order("next_attempt_at").Limit(1).Find(&waiting).Error
		if err != nil {
			return fmt.Errorf("find waiting deliveries: %w", err)
		}
		if len(waiting) == 1 && waiting[0].NextAttemptAt != nil && waiting[0].NextAttemptAt.Before(until) {
			until = *waiting[0].NextAttemptAt
		}
		if now.Before(until) {
			return d.deferItems(tx, c, live, until, now, "linger")
		}
	}
	if err := tx.Where("url_hash = ? AND sent_at < ?", r.URLHash, now.Add(-2*max(longest, d.cfg.Lease))).
		Delete(&models.RobotSend{}).Error; err != nil {
		return fmt.Errorf("prune send log: %w", err)
	}
	c.batches = d.pack(live, spend, c)
	return nil
}

// pack puts the due deliveries into at most spend messages. With budget for all of them each goes
// alone; otherwise consecutive deliveries with the same target share a message, as many as fit the
// platform's size limit without truncation, up to an even share. What does not fit waits for the
// next claim (more is set).
func (d *Dispatcher) pack(live []*item, spend int, c *claim) []*batch {
	share := 1
	if len(live) > spend {
		share = (len(live) + spend - 1) / spend
	}
	var out []*batch
	for _, it := range live {
		if n := len(out); n > 0 && share > 1 {
			last := out[n-1]
			if len(last.items) < share && last.target == it.d.Target() {
				grown := append(last.items[:len(last.items):len(last.items)], it)
				if msg := combine(grown); d.fits(last.target, msg) {
					last.items, last.msg = grown, msg
					continue
				}
			}
		}
		if len(out) == spend {
			c.more = true
			continue
		}
		out = append(out, &batch{items: []*item{it}, target: it.d.Target(), msg: it.message()})
	}
	return out
}

// fits reports whether a combined message reaches the robot whole.
func (d *Dispatcher) fits(t senders.Target, m senders.Message) bool {
	req, err := d.notifier.Render(t, m)
	return err == nil && !req.Truncated
}

// deferItems moves deliveries' next attempt to until without using an attempt.
func (d *Dispatcher) deferItems(tx *gorm.DB, c *claim, items []*item, until, now time.Time, reason string) error {
	ids := make([]uint, len(items))
	for i, it := range items {
		ids[i] = it.d.ID
	}
	err := tx.Model(&models.Delivery{}).Where("id IN ?", ids).
		Updates(map[string]any{"next_attempt_at": until.UTC(), "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("defer deliveries: %w", err)
	}
	d.cfg.Metrics.Deferred(c.platform, reason, len(items))
	return nil
}

// withAlerts loads the alerts of the claimed deliveries. They are read without locks: an alert's
// message never changes, and its row lock belongs to whoever records a result.
func withAlerts(tx *gorm.DB, due []models.Delivery) ([]*item, error) {
	ids := make([]uint, 0, len(due))
	for _, d := range due {
		ids = append(ids, d.AlertID)
	}
	var alerts []*models.Alert
	if err := tx.Where("id IN ?", ids).Find(&alerts).Error; err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}
	byID := make(map[uint]*models.Alert, len(alerts))
	for _, a := range alerts {
		byID[a.ID] = a
	}
	items := make([]*item, 0, len(due))
	for _, d := range due {
		if a := byID[d.AlertID]; a != nil {
			items = append(items, &item{d: d, alert: a})
		}
	}
	return items, nil
}

// restoreRobot handles a robot row that was not returned: normally another replica holds it, but if
// it is missing (a delivery written without it) it is created, so the deliveries are not stranded.
func (d *Dispatcher) restoreRobot(tx *gorm.DB, hash string, now time.Time) error {
	var n int64
	if err := tx.Model(&models.Robot{}).Where("url_hash = ?", hash).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	var platform []string
	if err := tx.Model(&models.Delivery{}).Where("url_hash = ?", hash).Limit(1).Pluck("platform", &platform).Error; err != nil || len(platform) == 0 {
		return err
	}
	r := models.Robot{URLHash: hash, Platform: senders.Platform(platform[0]), CreatedAt: now, UpdatedAt: now}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error
}
