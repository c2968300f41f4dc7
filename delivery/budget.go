package delivery

import (
	"slices"
	"time"

	"github.com/heraldhq/herald/senders"
)

// sent is one row of a robot's send log as the budget sees it.
type sent struct {
	at      time.Time
	settled bool
}

// budget is what a robot may send at one moment.
type budget struct {
	// avail is how many messages every window still allows.
	avail int
	// spend is how many to send now: avail minus the reserve, but at least one while avail allows it.
	spend int
	// low is true once the reserve is reached: from then on every message should carry all that waits.
	low bool
	// freeAt is when avail becomes positive again, when it is not now.
	freeAt time.Time
}

// computeBudget applies a robot's windows to its send log at now.
//
// A send still in flight (not settled, reserved less than a lease ago) is counted as happening now
// and for as long as it is in flight: its answer, and so its settled time, can only come later, and
// the platform may count it at any moment until then. An unsettled row older than a lease belongs to
// a worker that died or to a send slower than a lease (its heartbeat keeps it claimed); it counts at
// its reservation time, which every window still covers.
func computeBudget(windows []senders.Window, log []sent, now time.Time, lease time.Duration) budget {
	b := budget{avail: int(^uint(0) >> 1), spend: int(^uint(0) >> 1)}
	times := make([]time.Time, 0, len(log))
	for _, s := range log {
		t := s.at
		if !s.settled && now.Sub(s.at) < lease && t.Before(now) {
			t = now
		}
		times = append(times, t)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for _, w := range windows {
		if w.Limit <= 0 {
			continue
		}
		var in []time.Time
		for _, t := range times {
			if t.After(now.Add(-w.Span)) {
				in = append(in, t)
			}
		}
		avail := w.Limit - len(in)
		b.avail = min(b.avail, avail)
		b.spend = min(b.spend, avail-w.Reserve)
		if avail <= 0 {
			// The window allows one more once all but Limit-1 of its sends have left it.
			free := in[len(in)-w.Limit].Add(w.Span)
			if free.After(b.freeAt) {
				b.freeAt = free
			}
		}
	}
	if len(windows) == 0 {
		b.avail, b.spend = 1<<20, 1<<20
	}
	if b.spend < 1 {
		b.low = true
		b.spend = min(1, max(b.avail, 0))
	}
	if b.avail > 0 {
		b.freeAt = now
	} else if !b.freeAt.After(now) {
		// Only in-flight sends fill the window; they settle within a lease at the latest.
		b.freeAt = now.Add(min(lease, time.Second))
	}
	return b
}
