package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
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

// Bounds of one claim transaction: how many robots it locks and how many deliveries it leases. A
// fan-out claims many robots with one delivery each; a backlog is taken a BatchSize at a time.
const (
	claimRobots = 100
	claimRows   = 1000
)

// claim is what one claim transaction took for one robot.
type claim struct {
	// token is shared by every robot of one claim transaction; it fences each delivery all the same,
	// since a delivery claimed again gets the new claim's token.
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

// work reports whether the claim leased anything.
func (c *claim) work() bool { return len(c.batches) > 0 || len(c.expired) > 0 }

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// claimRobots takes the due deliveries of up to claimRobots robots, each within its rate budget, in
// one short transaction that never waits for a network call or for another replica:
//
//  1. lock the robots' rows (SKIP LOCKED: a robot another replica serves is left to it);
//  2. pick each robot's oldest BatchSize due deliveries and lock them (SKIP LOCKED);
//  3. read the robots' send logs;
//  4. for each robot that is paused or out of budget, push its deliveries' next_attempt_at to when it
//     can send again, without using an attempt, so they stop matching the poll until then;
//  5. for the others, pack their deliveries into at most as many messages as the budget allows,
//     reserve one send-log row per message, and lease the deliveries to the claim's token.
//
// Every step is one statement for all the robots; only rare cases (a robot row to restore, a robot
// lingering for more alerts, a breaker probe) cost a statement of their own. It returns a claim for
// each robot it locked that had due deliveries, and the robots it skipped because someone held them.
func (d *Dispatcher) claimRobots(ctx context.Context, hashes []string) ([]*claim, []string, error) {
	var claims []*claim
	var skipped []string
	err := d.transaction(ctx, func(tx *gorm.DB) error {
		claims, skipped = nil, nil
		now, err := models.DBNow(tx)
		if err != nil {
			return err
		}
		var robots []models.Robot
		if err := tx.Clauses(skipLocked).Where("url_hash IN ?", hashes).Order("url_hash").Find(&robots).Error; err != nil {
			return fmt.Errorf("lock robots: %w", err)
		}
		if len(robots) < len(hashes) {
			if skipped, err = d.restoreRobots(tx, hashes, robots, now); err != nil {
				return err
			}
		}
		if len(robots) == 0 {
			return nil
		}
		due, capped, err := d.lockDue(tx, robots, now)
		if err != nil || len(due) == 0 {
			return err
		}
		items, err := withAlerts(tx, due)
		if err != nil {
			return err
		}
		byRobot := map[string][]*item{}
		for _, it := range items {
			byRobot[it.d.URLHash] = append(byRobot[it.d.URLHash], it)
		}
		logs, err := d.sendLogs(tx, byRobot, now)
		if err != nil {
			return err
		}
		token := newToken()
		deferred := map[time.Time][]uint{}
		var reserve []models.RobotSend
		var probes []string
		for _, r := range robots {
			its := byRobot[r.URLHash]
			if len(its) == 0 {
				continue
			}
			c := &claim{token: token, hash: r.URLHash, platform: r.Platform, more: capped || len(its) >= d.cfg.BatchSize}
			var live []*item
			for _, it := range its {
				if !now.Before(it.d.CreatedAt.Add(d.cfg.MaxAge)) {
					c.expired = append(c.expired, it)
				} else {
					live = append(live, it)
				}
			}
			until, reason, err := d.plan(tx, c, r, live, logs[r.URLHash], now)
			if err != nil {
				return err
			}
			if !until.IsZero() {
				for _, it := range live {
					deferred[until] = append(deferred[until], it.d.ID)
				}
				d.cfg.Metrics.Deferred(c.platform, reason, len(live))
			}
			for range c.batches {
				reserve = append(reserve, models.RobotSend{URLHash: r.URLHash, SentAt: now})
			}
			if c.probe && len(c.batches) > 0 {
				probes = append(probes, r.URLHash)
			}
			claims = append(claims, c)
		}
		if err := deferDeliveries(tx, deferred, now); err != nil {
			return err
		}
		if err := d.reserveSends(tx, claims, reserve, now); err != nil {
			return err
		}
		lease := now.Add(d.cfg.Lease)
		var ids []uint
		for _, c := range claims {
			for _, b := range c.batches {
				for _, it := range b.items {
					ids = append(ids, it.d.ID)
				}
			}
			for _, it := range c.expired {
				ids = append(ids, it.d.ID)
			}
		}
		for chunk := range slices.Chunk(ids, claimRows) {
			err := tx.Model(&models.Delivery{}).Where("id IN ?", chunk).
				Updates(map[string]any{"claim_token": token, "next_attempt_at": lease, "updated_at": now}).Error
			if err != nil {
				return fmt.Errorf("lease deliveries: %w", err)
			}
		}
		if len(probes) > 0 {
			// Holding the robot paused for the lease keeps every other claim off it until the probe's
			// verdict closes or reopens the breaker.
			err := tx.Model(&models.Robot{}).Where("url_hash IN ?", probes).
				Updates(map[string]any{"paused_until": lease, "updated_at": now}).Error
			if err != nil {
				return fmt.Errorf("hold robots for probes: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return claims, skipped, nil
}

// lockDue locks the locked robots' oldest due deliveries, at most BatchSize per robot and claimRows
// in all, every robot's first before any robot's second. capped reports that the overall bound cut
// some robot short.
//
// The ranking is a plain read of the robot index; only the rows it picks are then locked, by primary
// key, so the locking statement never scans a robot's whole backlog. The locking read checks again
// that each row is still due: at READ COMMITTED it sees what committed in between.
func (d *Dispatcher) lockDue(tx *gorm.DB, robots []models.Robot, now time.Time) (due []models.Delivery, capped bool, err error) {
	hashes := make([]string, len(robots))
	for i, r := range robots {
		hashes[i] = r.URLHash
	}
	ranked := tx.Model(&models.Delivery{}).
		Select("id, ROW_NUMBER() OVER (PARTITION BY url_hash ORDER BY next_attempt_at, id) AS n").
		Where("url_hash IN ? AND status = ? AND next_attempt_at <= ?", hashes, models.DeliveryPending, now)
	var ids []uint
	err = tx.Table("(?) AS ranked", ranked).Where("n <= ?", d.cfg.BatchSize).Order("n, id").Limit(claimRows).
		Pluck("id", &ids).Error
	if err != nil {
		return nil, false, fmt.Errorf("find due deliveries: %w", err)
	}
	if len(ids) == 0 {
		return nil, false, nil
	}
	err = tx.Clauses(skipLocked).
		Where("id IN ? AND status = ? AND next_attempt_at <= ?", ids, models.DeliveryPending, now).
		Order("url_hash, next_attempt_at, id").Find(&due).Error
	if err != nil {
		return nil, false, fmt.Errorf("lock due deliveries: %w", err)
	}
	return due, len(ids) == claimRows, nil
}

// sendLogs reads the recent send log of the robots, as far back as any budget window or a lease.
func (d *Dispatcher) sendLogs(tx *gorm.DB, robots map[string][]*item, now time.Time) (map[string][]sent, error) {
	hashes := make([]string, 0, len(robots))
	for h := range robots {
		hashes = append(hashes, h)
	}
	var rows []models.RobotSend
	if err := tx.Where("url_hash IN ? AND sent_at > ?", hashes, now.Add(-d.lookback())).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read send log: %w", err)
	}
	out := make(map[string][]sent, len(hashes))
	for _, s := range rows {
		out[s.URLHash] = append(out[s.URLHash], sent{at: s.SentAt, settled: s.Settled})
	}
	return out, nil
}

// lookback is how far back the send log matters: the longest budget window of any platform, or a
// lease, whichever is longer.
func (d *Dispatcher) lookback() time.Duration {
	l := d.cfg.Lease
	for _, ws := range d.cfg.Budgets {
		for _, w := range ws {
			l = max(l, w.Span)
		}
	}
	return l
}

// reserveSends writes one send-log row per message of the claims, prunes log rows too old to matter,
// and gives each batch its row's id. The ids are read back rather than taken from the insert: with
// interleaved auto-increment locking a multi-row insert's ids need not be consecutive. The rows are
// told apart by robot and time; the robots are locked, so no other claim can be writing theirs.
func (d *Dispatcher) reserveSends(tx *gorm.DB, claims []*claim, rows []models.RobotSend, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	var hashes []string
	for _, c := range claims {
		if len(c.batches) > 0 {
			hashes = append(hashes, c.hash)
		}
	}
	if err := tx.Where("url_hash IN ? AND sent_at < ?", hashes, now.Add(-2*d.lookback())).
		Delete(&models.RobotSend{}).Error; err != nil {
		return fmt.Errorf("prune send log: %w", err)
	}
	if err := tx.CreateInBatches(rows, claimRows).Error; err != nil {
		return fmt.Errorf("reserve sends: %w", err)
	}
	var got []models.RobotSend
	err := tx.Select("id", "url_hash").Where("url_hash IN ? AND sent_at = ? AND settled = ?", hashes, now, false).
		Order("id").Find(&got).Error
	if err != nil {
		return fmt.Errorf("read reserved sends: %w", err)
	}
	ids := map[string][]uint{}
	for _, s := range got {
		ids[s.URLHash] = append(ids[s.URLHash], s.ID)
	}
	for _, c := range claims {
		mine := ids[c.hash]
		if len(mine) < len(c.batches) {
			return fmt.Errorf("reserve sends: %d rows read back for %d messages", len(mine), len(c.batches))
		}
		for i, b := range c.batches {
			b.sendID = mine[i]
		}
	}
	return nil
}

// plan decides, under the robot's lock, what happens to its live due deliveries now: it fills the
// claim's batches, or returns when they should be tried again instead, and why.
func (d *Dispatcher) plan(tx *gorm.DB, c *claim, r models.Robot, live []*item, log []sent, now time.Time) (time.Time, string, error) {
	if len(live) == 0 {
		return time.Time{}, "", nil
	}
	if r.PausedUntil != nil && r.PausedUntil.After(now) {
		return *r.PausedUntil, "paused", nil
	}
	b := computeBudget(d.cfg.Budgets[r.Platform], log, now, d.cfg.Lease)
	if b.avail <= 0 {
		return b.freeAt, "budget", nil
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
			return time.Time{}, "", fmt.Errorf("find waiting deliveries: %w", err)
		}
		if len(waiting) == 1 && waiting[0].NextAttemptAt != nil && waiting[0].NextAttemptAt.Before(until) {
			until = *waiting[0].NextAttemptAt
		}
		if now.Before(until) {
			return until, "linger", nil
		}
	}
	c.batches = d.pack(live, spend, c)
	return time.Time{}, "", nil
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

// deferDeliveries moves deliveries' next attempt without using an attempt, one statement per time.
func deferDeliveries(tx *gorm.DB, until map[time.Time][]uint, now time.Time) error {
	for t, ids := range until {
		for chunk := range slices.Chunk(ids, claimRows) {
			err := tx.Model(&models.Delivery{}).Where("id IN ?", chunk).
				Updates(map[string]any{"next_attempt_at": t.UTC(), "updated_at": now}).Error
			if err != nil {
				return fmt.Errorf("defer deliveries: %w", err)
			}
		}
	}
	return nil
}

// withAlerts loads the alerts of the claimed deliveries. They are read without locks: an alert's
// message never changes, and its row lock belongs to whoever records a result.
func withAlerts(tx *gorm.DB, due []models.Delivery) ([]*item, error) {
	ids := make([]uint, 0, len(due))
	for _, d := range due {
		ids = append(ids, d.AlertID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
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

// restoreRobots handles robot rows that were not returned: normally another replica holds them, but
// a missing one (a delivery written without it) is created, so its deliveries are not stranded. It
// returns the robots to try again soon: those held elsewhere and those just created.
func (d *Dispatcher) restoreRobots(tx *gorm.DB, hashes []string, locked []models.Robot, now time.Time) ([]string, error) {
	got := make(map[string]bool, len(locked))
	for _, r := range locked {
		got[r.URLHash] = true
	}
	var absent []string
	for _, h := range hashes {
		if !got[h] {
			absent = append(absent, h)
		}
	}
	var exist []string
	if err := tx.Model(&models.Robot{}).Where("url_hash IN ?", absent).Pluck("url_hash", &exist).Error; err != nil {
		return nil, fmt.Errorf("look up robots: %w", err)
	}
	if len(exist) == len(absent) {
		return absent, nil
	}
	var missing []models.Delivery
	err := tx.Model(&models.Delivery{}).Select("url_hash", "platform").
		Where("url_hash IN ?", absent).Where("url_hash NOT IN ?", append(exist, "")).
		Group("url_hash, platform").Find(&missing).Error
	if err != nil {
		return nil, fmt.Errorf("find robots to restore: %w", err)
	}
	rows := make([]models.Robot, 0, len(missing))
	seen := map[string]bool{}
	for _, m := range missing {
		if !seen[m.URLHash] {
			seen[m.URLHash] = true
			rows = append(rows, models.Robot{URLHash: m.URLHash, Platform: m.Platform, CreatedAt: now, UpdatedAt: now})
		}
	}
	if len(rows) > 0 {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
			return nil, fmt.Errorf("restore robots: %w", err)
		}
	}
	return absent, nil
}
