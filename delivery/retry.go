package delivery

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/heraldhq/herald/senders"
)

// policy decides what a verdict means for a delivery and for its robot: retry or give up, when to
// try again, and when the circuit breaker opens. It reads no database and writes none; the recorder
// stores what it decides (as Alertmanager keeps its retrier apart from its notifiers).
type policy struct {
	maxAge           time.Duration
	retryBase        time.Duration
	retryCap         time.Duration
	breakerThreshold int
	breakerCooldown  time.Duration
}

func (c Config) policy() policy {
	return policy{
		maxAge: c.MaxAge, retryBase: c.RetryBase, retryCap: c.RetryCap,
		breakerThreshold: c.BreakerThreshold, breakerCooldown: c.BreakerCooldown,
	}
}

// nextState decides a delivery's new state from a verdict.
func (p policy) nextState(d *Delivery, outcome senders.Outcome, errText string, retryAfter time.Duration, now time.Time) fate {
	f := fate{attempted: outcome != Expired && outcome != Dropped}
	deadline := d.dueSince().Add(p.maxAge)
	fail := func(msg string) fate {
		f.status, f.lastError = DeliveryFailed, clip(msg)
		return f
	}
	switch outcome {
	case senders.Sent:
		f.status = DeliverySent
		return f
	case senders.Permanent:
		return fail(errText)
	case Expired:
		msg := fmt.Sprintf("not sent within %s of the alert (the robot was paused or over its rate budget)", p.maxAge)
		if d.LastError != nil {
			msg += "; last error: " + *d.LastError
		}
		return fail(msg)
	case Released:
		f.status, f.next, f.lastError = DeliveryPending, now, clip(errText)
		return f
	case Dropped:
		f.status = DeliveryDropped
		return f
	}
	next := now.Add(p.backoff(d.Attempts+1, retryAfter))
	if !next.Before(deadline) {
		return fail(fmt.Sprintf("gave up after %d attempts: not delivered within %s of the alert; last error: %s",
			d.Attempts+1, p.maxAge, errText))
	}
	f.status, f.next, f.lastError = DeliveryPending, next, clip(errText)
	return f
}

// backoff is the delay before retry number attempt+1: exponential from retryBase, capped at
// retryCap, with jitter so that robots failing together do not retry together, and never sooner
// than the platform asked.
func (p policy) backoff(attempt int, retryAfter time.Duration) time.Duration {
	delay := p.retryCap
	if attempt <= 30 {
		delay = min(p.retryBase<<(attempt-1), p.retryCap)
	}
	delay = delay/2 + rand.N(delay/2+1)
	return max(delay, retryAfter)
}

// breaker applies one verdict to a robot's circuit breaker and reports whether it opened. probe
// says the verdict is the half-open breaker's one probe.
func (p policy) breaker(r *RobotState, outcome senders.Outcome, retryAfter time.Duration, probe bool, now time.Time) bool {
	switch outcome {
	case senders.Sent, senders.Permanent:
		r.Failures = 0
		if probe {
			r.PausedUntil = nil
		}
	case senders.Retryable:
		r.Failures++
		var until time.Time
		if retryAfter > 0 {
			until = now.Add(retryAfter)
		}
		opened := r.Failures >= p.breakerThreshold
		if opened {
			if cool := now.Add(p.breakerCooldown); cool.After(until) {
				until = cool
			}
		}
		if !until.IsZero() && (r.PausedUntil == nil || r.PausedUntil.Before(until) || probe) {
			r.PausedUntil = &until
		}
		return opened
	case Released:
		if probe {
			r.PausedUntil = nil
		}
	}
	return false
}

// maxErrorBytes keeps stored error text within its column on both databases.
const maxErrorBytes = 2000

func errorText(res senders.Result) string {
	if res.Err == nil {
		return ""
	}
	return clip(res.Err.Error())
}

// clip cuts s to maxErrorBytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxErrorBytes {
		return s
	}
	n := maxErrorBytes
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
