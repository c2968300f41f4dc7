package delivery

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"
)

// heartbeat keeps the claims this dispatcher holds alive. Leases are short, so that a crashed
// replica's work is taken over within a lease; every third of a lease one statement moves the
// lease of every delivery still held under an in-flight claim token (and the pause of robots being
// probed) to a full lease from now, so a slow send never loses its lease while its worker lives.
type heartbeat struct {
	mu     sync.Mutex
	claims map[*claim]struct{}
}

func newHeartbeat() *heartbeat { return &heartbeat{claims: map[*claim]struct{}{}} }

// hold starts renewing a claim's leases; release, once its results are recorded, stops.
func (h *heartbeat) hold(c *claim) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.claims[c] = struct{}{}
}

func (h *heartbeat) release(c *claim) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.claims, c)
}

// held is what the claims in flight hold: their deliveries (by id, so that the renewal finds them
// by primary key), their tokens, and the robots paused for a probe.
func (h *heartbeat) held() (ids []uint, tokens, probes []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for c := range h.claims {
		for _, b := range c.batches {
			for _, it := range b.items {
				ids = append(ids, it.d.ID)
			}
		}
		if !seen[c.token] {
			seen[c.token] = true
			tokens = append(tokens, c.token)
		}
		if c.probe && len(c.batches) > 0 {
			probes = append(probes, c.key)
		}
	}
	return ids, tokens, probes
}

// renewLeases runs until ctx ends, renewing what is held every third of a lease.
func (d *Dispatcher) renewLeases(ctx context.Context) {
	tick := time.NewTicker(d.cfg.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ids, tokens, probes := d.heartbeat.held()
		if len(ids) == 0 {
			continue
		}
		started := time.Now()
		err := queueTx(ctx, d.db, func(tx *gorm.DB) error {
			now, err := dbNow(tx)
			if err != nil {
				return err
			}
			return renewLeases(tx, ids, tokens, probes, now.Add(d.cfg.Lease), now)
		})
		if err != nil && ctx.Err() == nil && !d.outage.failed("renewing leases", started, err) {
			d.log.Warn("renew leases", "error", err)
		}
	}
}
