package delivery

import (
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// outage remembers whether the database is away, so that an outage is logged once when it begins
// and once when it ends, not once per poll, claim and recording while it lasts.
//
// Calls report when they started, and only a call that started after the one that last changed the
// state may change it again. Calls overlap: as the database dies, a query answered just before may
// be read after another's connection was reset, and as it comes back, a query that failed on a dead
// connection may report after a fresh one succeeded. Either is old news, not a second outage.
type outage struct {
	log     *slog.Logger
	mu      sync.Mutex
	since   time.Time // zero while the database answers
	ended   time.Time // when the last outage ended
	changed time.Time // when the call that last changed the state started
}

// failed notes an error of a database call that started at started, and reports whether it says
// the database is away.
func (o *outage) failed(what string, started time.Time, err error) bool {
	if !models.IsUnavailable(err) {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() && started.After(o.changed) {
		o.since, o.changed = time.Now(), started
		o.log.Warn("database unreachable; delivery waits for it, and finished sends are held until they can be recorded",
			"while", what, "error", err)
	}
	return true
}

// answered notes a database call, started at started, that succeeded.
func (o *outage) answered(started time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.since.IsZero() && started.After(o.changed) {
		o.log.Info("database reachable again", "down_for", time.Since(o.since).Round(time.Millisecond).String())
		o.since, o.ended, o.changed = time.Time{}, time.Now(), started
	}
}

// endedWithin reports whether an outage ended less than d ago.
func (o *outage) endedWithin(d time.Duration) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.ended.IsZero() && time.Since(o.ended) < d
}
