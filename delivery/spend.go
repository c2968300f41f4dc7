package delivery

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// Under a robot's lock, a claim decides what the robot may send now: its send log against its rate
// budget, its circuit breaker, whether to linger for more alerts, and how its due deliveries are
// packed into the messages it may send.

// sendLogs reads the recent send log of the robots, as far back as any budget window or a lease.
func (d *Dispatcher) sendLogs(tx *gorm.DB, robots map[string][]*item, now time.Time) (map[string][]sent, error) {
	keys := make([]string, 0, len(robots))
	for h := range robots {
		keys = append(keys, h)
	}
	var rows []RobotSend
	if err := tx.Where("url_hash IN ? AND sent_at > ?", keys, now.Add(-d.lookback())).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read send log: %w", err)
	}
	out := make(map[string][]sent, len(keys))
	for _, s := range rows {
		out[s.RobotKey] = append(out[s.RobotKey], sent{at: s.SentAt, settled: s.Settled})
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

// reserveSends writes one send-log row per send of the claims' messages, prunes log rows too old to matter,
// and gives each batch its row's id. The ids are read back rather than taken from the insert: with
// interleaved auto-increment locking a multi-row insert's ids need not be consecutive. The rows are
// told apart by robot and time; the robots are locked, so no other claim can be writing theirs.
func (d *Dispatcher) reserveSends(tx *gorm.DB, claims []*claim, rows []RobotSend, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	var keys []string
	for _, c := range claims {
		if len(c.batches) > 0 {
			keys = append(keys, c.key)
		}
	}
	if err := pruneSends(tx, keys, now.Add(-2*d.lookback())); err != nil {
		return err
	}
	if err := insertSends(tx, rows); err != nil {
		return err
	}
	var got []RobotSend
	err := tx.Select("id", "url_hash").Where("url_hash IN ? AND sent_at = ? AND settled = ?", keys, now, false).
		Order("id").Find(&got).Error
	if err != nil {
		return fmt.Errorf("read reserved sends: %w", err)
	}
	ids := map[string][]uint{}
	for _, s := range got {
		ids[s.RobotKey] = append(ids[s.RobotKey], s.ID)
	}
	for _, c := range claims {
		mine := ids[c.key]
		for _, b := range c.batches {
			if len(mine) < b.sends {
				return fmt.Errorf("reserve sends: too few rows read back for the messages of robot %s", c.key)
			}
			b.sendIDs, mine = mine[:b.sends], mine[b.sends:]
		}
	}
	return nil
}

// plan decides, under the robot's lock, what happens to its live due deliveries now: it fills the
// claim's batches, or returns when they should be tried again instead, and why.
func (d *Dispatcher) plan(tx *gorm.DB, c *claim, r RobotState, live []*item, log []sent, now time.Time) (time.Time, string, error) {
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
		var waiting []Delivery
		err := tx.Select("next_attempt_at").
			Where("url_hash = ? AND status = ? AND next_attempt_at > ? AND claim_token IS NULL", r.RobotKey, DeliveryPending, now).
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
// alone; otherwise consecutive deliveries to the same robot, protected the same way, share a message, as many as fit the
// platform's size limit without truncation, up to an even share. What does not fit waits for the
// next claim (more is set).
func (d *Dispatcher) pack(live []*item, spend int, c *claim) []*batch {
	// A robot shared by two namespaces never gets their alerts in one message: each namespace's
	// deliveries are packed together, in acceptance order, and only with each other. Namespaces go
	// in the order of their oldest due delivery, so that none waits behind another for good.
	first := map[uint]int{}
	for i, it := range live {
		if _, seen := first[it.alert.NamespaceID]; !seen {
			first[it.alert.NamespaceID] = i
		}
	}
	slices.SortStableFunc(live, func(a, b *item) int {
		return cmp.Compare(first[a.alert.NamespaceID], first[b.alert.NamespaceID])
	})
	var out []*batch
	used := 0 // sends the batches cost: a card that mentions where cards cannot costs two
	live, digests := splitDigests(live)
	for _, group := range digests {
		b := d.digestBatch(group)
		if used+b.sends > spend {
			c.more = true
			continue
		}
		out = append(out, b)
		used += b.sends
	}
	share := 1
	if len(live) > spend {
		share = (len(live) + spend - 1) / spend
	}
	// full is the last batch once it turned an alert away: it takes no more, so that each later
	// alert does not render it again (a message at its limit costs a search for its cut).
	full := false
	for _, it := range live {
		if n := len(out); n > 0 && share > 1 && !full {
			last := out[n-1]
			if len(last.items) < share && last.robot == it.robot && last.items[0].alert.NamespaceID == it.alert.NamespaceID {
				grown := append(last.items[:len(last.items):len(last.items)], it)
				msg := combine(grown)
				if cost := d.sends(last.robot, msg); used-last.sends+cost <= spend && d.fits(last.robot, msg) {
					last.items, last.msg = grown, msg
					used += cost - last.sends
					last.sends = cost
					continue
				}
				full = true
			}
		}
		msg := it.message()
		cost := d.sends(it.robot, msg)
		if used+cost > spend && used < spend {
			// One send left: the card goes as markdown, which mentions by itself, rather than
			// spend a send the robot does not have on its companion.
			msg.Format = senders.Markdown
			cost = 1
		}
		if used+cost > spend {
			c.more = true
			continue
		}
		out = append(out, &batch{items: []*item{it}, robot: it.robot, msg: msg, sends: cost})
		used += cost
		full = false
	}
	return out
}

// splitDigests takes the released deliveries of quiet hours that send a digest out of live: one
// group per namespace and robot configuration, each in acceptance order.
func splitDigests(live []*item) (rest []*item, digests [][]*item) {
	type key struct {
		namespace uint
		robot     robot
	}
	at := map[key]int{}
	for _, it := range live {
		if it.d.Hold != HoldDigest {
			rest = append(rest, it)
			continue
		}
		k := key{it.alert.NamespaceID, it.robot}
		i, ok := at[k]
		if !ok {
			i = len(digests)
			at[k] = i
			digests = append(digests, nil)
		}
		digests[i] = append(digests[i], it)
	}
	return rest, digests
}

// digestBatch is the one message for a group of released deliveries: as many of their alerts
// listed as fit the platform's limit whole, the rest counted.
func (d *Dispatcher) digestBatch(group []*item) *batch {
	r := group[0].robot
	msg := digest(group, len(group))
	if !d.fits(r, msg) {
		lo, hi := 0, len(group) // digest(lo) fits (nothing listed always does); digest(hi) does not
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if d.fits(r, digest(group, mid)) {
				lo = mid
			} else {
				hi = mid
			}
		}
		msg = digest(group, lo)
	}
	return &batch{items: group, robot: r, msg: msg, sends: d.sends(r, msg)}
}

// sends is what a message costs the robot's rate budget: two when a companion follows it. Only a
// card that mentions where cards cannot may have one, and whether it does depends on whether the
// card fits (one that goes as markdown mentions by itself), so only such a card is rendered here.
func (d *Dispatcher) sends(r robot, m senders.Message) int {
	desc, ok := d.notifier.Platforms().Lookup(r.platform)
	if !ok || desc.Sends(m) == 1 {
		return 1
	}
	opened, err := r.open(d.secrets)
	if err != nil {
		return 2
	}
	if req, err := d.notifier.Render(opened, m); err == nil && req.Companion == nil {
		return 1
	}
	return 2
}

// fits reports whether a combined message reaches the robot whole. Content already larger than
// the platform's whole message cannot fit, and is refused without rendering: rendering an oversize
// message searches for its cut, which pack would pay for every alert that a full message turns away.
func (d *Dispatcher) fits(r robot, m senders.Message) bool {
	if desc, ok := d.notifier.Platforms().Lookup(r.platform); ok && desc.MaxBodyBytes > 0 && len(m.Content)+len(m.Title) > desc.MaxBodyBytes {
		return false
	}
	opened, err := r.open(d.secrets)
	if err != nil {
		return false
	}
	req, err := d.notifier.Render(opened, m)
	return err == nil && !req.Truncated
}
