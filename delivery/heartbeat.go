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
	tokens map[string]int      // claim token → robots in flight under it
	probes map[string]struct{} // robots held paused while their probe is in flight
}

func newHeartbeat() *heartbeat {
	return &heartbeat{tokens: map[string]int{}, probes: map[string]struct{}{}}
}

// hold starts renewing a claim's leases; release, once its results are recorded, stops.
func (h *heartbeat) hold(c *claim) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tokens[c.token]++
	if c.probe && len(c.batches) > 0 {
		h.probes[c.key] = struct{}{}
	}
}

func (h *heartbeat) release(c *claim) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tokens[c.token]--; h.tokens[c.token] <= 0 {
		delete(h.tokens, c.token)
	}
	delete(h.probes, c.key)
}

func (h *heartbeat) held() (tokens, probes []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t := range h.tokens {
		tokens = append(tokens, t)
	}
	for k := range h.probes {
		probes = append(probes, k)
	}
	return tokens, probes
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
		tokens, probes := d.heartbeat.held()
		if len(tokens) == 0 {
			continue
		}
		err := queueTx(ctx, d.db, func(tx *gorm.DB) error {
			now, err := dbNow(tx)
			if err != nil {
				return err
			}
			return renewLeases(tx, tokens, probes, now.Add(d.cfg.Lease), now)
		})
		if err != nil && ctx.Err() == nil && !d.outage.failed("renewing leases", err) {
			d.log.Warn("renew leases", "error", err)
		}
	}
}
