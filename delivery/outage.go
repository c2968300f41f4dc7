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
		o.since = time.Time{}
	}
}
