package delivery

import (
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// outage remembers whether the database is away, so that an outage is logged once when it begins
// and once when it ends, not once per poll, claim and recording while it lasts.
type outage struct {
	log   *slog.Logger
	mu    sync.Mutex
	since time.Time // zero while the database answers
	ended time.Time // when the last outage ended
}

// failed notes an error of a database call and reports whether it says the database is away.
func (o *outage) failed(what string, err error) bool {
	if !models.IsUnavailable(err) {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		o.since = time.Now()
		o.log.Warn("database unreachable; delivery waits for it, and finished sends are held until they can be recorded",
			"while", what, "error", err)
	}
	return true
}

// answered notes a database call that succeeded.
func (o *outage) answered() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.since.IsZero() {
		o.log.Info("database reachable again", "down_for", time.Since(o.since).Round(time.Millisecond).String())
		o.since, o.ended = time.Time{}, time.Now()
	}
}

// endedWithin reports whether an outage ended less than d ago.
func (o *outage) endedWithin(d time.Duration) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.ended.IsZero() && time.Since(o.ended) < d
}
