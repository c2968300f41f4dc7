package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

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
	key      string
	platform senders.Platform
	batches  []*batch
	// expired deliveries are past MaxAge; they are failed without a send.
	expired []*item
	// dropped deliveries were held by quiet hours that drop; they are recorded without a send.
	dropped []*item
	// probe is set when the robot's circuit breaker is half open and this claim sends its one probe.
	probe bool
	// more is set when due deliveries were left for a next claim.
	more bool
}

// work reports whether the claim leased anything.
func (c *claim) work() bool { return len(c.batches) > 0 || len(c.expired) > 0 || len(c.dropped) > 0 }

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
func (d *Dispatcher) claimRobots(ctx context.Context, keys []string) ([]*claim, []string, error) {
	var claims []*claim
	var skipped []string
	err := queueTx(ctx, d.db, func(tx *gorm.DB) error {
		claims, skipped = nil, nil
		now, err := dbNow(tx)
		if err != nil {
			return err
		}
		var robots []RobotState
		if err := tx.Clauses(skipLocked).Where("url_hash IN ?", keys).Order("url_hash").Find(&robots).Error; err != nil {
			return fmt.Errorf("lock robots: %w", err)
		}
		if len(robots) < len(keys) {
			if skipped, err = d.restoreRobots(tx, keys, robots, now); err != nil {
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
			byRobot[it.d.RobotKey] = append(byRobot[it.d.RobotKey], it)
		}
		logs, err := d.sendLogs(tx, byRobot, now)
		if err != nil {
			return err
		}
		token := newToken()
		deferred := map[time.Time][]uint{}
		var reserve []RobotSend
		var probes []string
		for _, r := range robots {
			its := byRobot[r.RobotKey]
			if len(its) == 0 {
				continue
			}
			c := &claim{token: token, key: r.RobotKey, platform: r.Platform, more: capped || len(its) >= d.cfg.BatchSize}
			var live []*item
			for _, it := range its {
				switch {
				case it.d.Hold == HoldDrop:
					c.dropped = append(c.dropped, it)
				case !now.Before(it.d.dueSince().Add(d.cfg.MaxAge)):
					c.expired = append(c.expired, it)
				default:
					live = append(live, it)
				}
			}
			until, reason, err := d.plan(tx, c, r, live, logs[r.RobotKey], now)
			if err != nil {
				return err
			}
			if !until.IsZero() {
				for _, it := range live {
					deferred[until] = append(deferred[until], it.d.ID)
				}
				d.cfg.Metrics.Deferred(c.platform, reason, len(live))
			}
			for _, b := range c.batches {
				for range b.sends {
					reserve = append(reserve, RobotSend{RobotKey: r.RobotKey, SentAt: now})
				}
			}
			if c.probe && len(c.batches) > 0 {
				probes = append(probes, r.RobotKey)
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
			for _, it := range slices.Concat(c.expired, c.dropped) {
				ids = append(ids, it.d.ID)
			}
		}
		if err := leaseDeliveries(tx, ids, token, lease, now); err != nil {
			return err
		}
		// Holding the robot paused for the lease keeps every other claim off it until the probe's
		// verdict closes or reopens the breaker.
		return holdRobots(tx, probes, lease, now)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return claims, skipped, nil
}

// lockDue locks the locked robots' oldest due deliveries: at most BatchSize per robot, and an equal
// share of claimRows each when that is less. capped reports that the share cut some robot short.
//
// The ranking reads each robot's first rows of the robot index, one LIMIT per robot in one
// statement, so its cost is the claim's size whatever the robots' backlogs: a robot with a hundred
// thousand due deliveries is read a batch at a time, not whole at every claim. Only the rows it
// picks are then locked, by primary key. The locking read checks again that each row is still due:
// at READ COMMITTED it sees what committed in between.
func (d *Dispatcher) lockDue(tx *gorm.DB, robots []RobotState, now time.Time) (due []Delivery, capped bool, err error) {
	per := min(d.cfg.BatchSize, max(1, claimRows/len(robots)))
	cond, condArgs := d.dueCondition(now)
	parts := make([]string, len(robots))
	var args []any
	for i, r := range robots {
		parts[i] = fmt.Sprintf("SELECT id, url_hash FROM (SELECT id, url_hash FROM deliveries WHERE url_hash = ? AND %s "+
			"ORDER BY next_attempt_at, id LIMIT %d) AS r%d", cond, per, i)
		args = append(append(args, r.RobotKey), condArgs...)
	}
	var ranked []struct {
		ID      uint
		URLHash string
	}
	if err := tx.Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&ranked).Error; err != nil {
		return nil, false, fmt.Errorf("find due deliveries: %w", err)
	}
	if len(ranked) == 0 {
		return nil, false, nil
	}
	ids := make([]uint, len(ranked))
	perRobot := map[string]int{}
	for i, r := range ranked {
		ids[i] = r.ID
		perRobot[r.URLHash]++
	}
	for _, n := range perRobot {
		capped = capped || (n == per && per < d.cfg.BatchSize)
	}
	err = d.due(tx.Clauses(skipLocked).Where("id IN ?", ids), now).
		Order("url_hash, next_attempt_at, id").Find(&due).Error
	if err != nil {
		return nil, false, fmt.Errorf("lock due deliveries: %w", err)
	}
	due, err = d.gatherDigests(tx, due, per, now)
	return due, capped, err
}

// gatherDigests adds, for a robot whose share was filled with released digest deliveries, the rest
// of them (up to claimRows in the claim): a digest is one message per robot, however many alerts
// quiet hours held, so it must not leave in pieces of one share each. Rare, so one statement per
// such robot.
func (d *Dispatcher) gatherDigests(tx *gorm.DB, due []Delivery, per int, now time.Time) ([]Delivery, error) {
	ids := map[string][]uint{}
	digest := map[string]bool{}
	for _, x := range due {
		ids[x.RobotKey] = append(ids[x.RobotKey], x.ID)
		digest[x.RobotKey] = digest[x.RobotKey] || x.Hold == HoldDigest
	}
	for key, mine := range ids {
		if !digest[key] || len(mine) < per || len(due) >= claimRows {
			continue
		}
		var more []Delivery
		err := d.due(tx.Clauses(skipLocked).Where("url_hash = ? AND hold = ? AND id NOT IN ?", key, HoldDigest, mine), now).
			Order("next_attempt_at, id").Limit(claimRows - len(due)).Find(&more).Error
		if err != nil {
			return nil, fmt.Errorf("lock held deliveries for a digest: %w", err)
		}
		due = append(due, more...)
	}
	return due, nil
}

// due restricts q to the deliveries due at now. For a lease after a database outage, work that
// another replica had claimed is left to it: that replica lived through the outage too, and renews
// its leases and records its held results as soon as the database answers, while a dead replica's
// claims are taken over a lease later.
func (d *Dispatcher) due(q *gorm.DB, now any) *gorm.DB {
	cond, args := d.dueCondition(now)
	return q.Where(cond, args...)
}

// dueCondition is due's condition as SQL, for statements written by hand.
func (d *Dispatcher) dueCondition(now any) (string, []any) {
	cond := "status = ? AND next_attempt_at <= ?"
	if d.outage.endedWithin(d.cfg.Lease) {
		cond += " AND claim_token IS NULL"
	}
	return cond, []any{DeliveryPending, now}
}

// withAlerts loads the alerts of the claimed deliveries. They are read without locks: an alert's
// message never changes, and its row lock belongs to whoever records a result.
func withAlerts(tx *gorm.DB, due []Delivery) ([]*item, error) {
	ids := make([]uint, 0, len(due))
	for _, d := range due {
		ids = append(ids, d.AlertID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var alerts []*Alert
	if err := tx.Where("id IN ?", ids).Find(&alerts).Error; err != nil {
		return nil, fmt.Errorf("load alerts: %w", err)
	}
	byID := make(map[uint]*Alert, len(alerts))
	for _, a := range alerts {
		byID[a.ID] = a
	}
	items := make([]*item, 0, len(due))
	for _, d := range due {
		if a := byID[d.AlertID]; a != nil {
			items = append(items, &item{d: d, robot: d.robot(), alert: a})
		}
	}
	return items, nil
}

// restoreRobots handles robot rows that were not returned: normally another replica holds them, but
// a missing one (a delivery written without it) is created, so its deliveries are not stranded. It
// returns the robots to try again soon: those held elsewhere and those just created.
func (d *Dispatcher) restoreRobots(tx *gorm.DB, keys []string, locked []RobotState, now time.Time) ([]string, error) {
	got := make(map[string]bool, len(locked))
	for _, r := range locked {
		got[r.RobotKey] = true
	}
	var absent []string
	for _, h := range keys {
		if !got[h] {
			absent = append(absent, h)
		}
	}
	var exist []string
	if err := tx.Model(&RobotState{}).Where("url_hash IN ?", absent).Pluck("url_hash", &exist).Error; err != nil {
		return nil, fmt.Errorf("look up robots: %w", err)
	}
	if len(exist) == len(absent) {
		return absent, nil
	}
	var missing []Delivery
	err := tx.Model(&Delivery{}).Select("url_hash", "platform").
		Where("url_hash IN ?", absent).Where("url_hash NOT IN ?", append(exist, "")).
		Group("url_hash, platform").Find(&missing).Error
	if err != nil {
		return nil, fmt.Errorf("find robots to restore: %w", err)
	}
	rows := make([]RobotState, 0, len(missing))
	seen := map[string]bool{}
	for _, m := range missing {
		if !seen[m.RobotKey] {
			seen[m.RobotKey] = true
			rows = append(rows, RobotState{RobotKey: m.RobotKey, Platform: m.Platform, CreatedAt: now, UpdatedAt: now})
		}
	}
	if err := insertRobots(tx, rows); err != nil {
		return nil, err
	}
	return absent, nil
}
