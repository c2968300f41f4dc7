package delivery

import (
	"log/slog"
	"time"

	"github.com/heraldhq/herald/senders"
)

// Config is the dispatcher's configuration, read by server.go. Zero fields take the defaults.
type Config struct {
	// Workers bounds how many robots are served at once.
	Workers int
	// PollInterval is how often the queue is polled for retries and for work other replicas accepted.
	PollInterval time.Duration
	// Lease is how long a claim holds its deliveries without a heartbeat: the dispatcher renews the
	// leases of what it holds every third of a lease, so a slow send keeps its lease while its worker
	// lives, and a crashed process's work is taken over within a lease.
	Lease time.Duration
	// MaxAge is how long after an alert was accepted its deliveries are retried before they fail.
	MaxAge time.Duration
	// BatchSize bounds how many due deliveries of one robot one claim takes.
	BatchSize int
	// Grace is how long Run lets in-flight sends finish once its context ends; the rest are released.
	Grace time.Duration
	// HoldResults is how long finished sends are held while the database is unreachable, to be
	// recorded when it answers again rather than sent again after their lease.
	HoldResults time.Duration
	// RetryBase is the first retry's delay before jitter; each retry doubles it up to RetryCap.
	RetryBase time.Duration
	RetryCap  time.Duration
	// Linger is how long a robot whose budget runs low waits for more alerts to combine into its next
	// message, counted from the oldest waiting alert's acceptance.
	Linger time.Duration
	// BreakerThreshold consecutive retryable failures pause a robot for BreakerCooldown; then one
	// probe decides whether it is healthy again.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// Budgets overrides the rate budgets per platform; tests use it. Production keeps each
	// platform's documented windows, from its descriptor.
	Budgets map[senders.Platform][]senders.Window
	// Logger gets one line per attempt. URLs are redacted; tokens and secrets are never logged.
	Logger *slog.Logger
	// Metrics counts what the dispatcher does; nil counts nothing.
	Metrics Metrics
}

// Metrics receives counters; package metrics implements it for Prometheus. Methods must be cheap
// and safe for concurrent use.
type Metrics interface {
	// Attempt counts one HTTP call to a robot carrying alerts alerts.
	Attempt(platform senders.Platform, namespace string, outcome senders.Outcome, alerts int, d time.Duration)
	// Deferred counts deliveries whose next attempt was pushed back without an attempt: reason is
	// "budget", "paused" or "linger".
	Deferred(platform senders.Platform, reason string, deliveries int)
	// BreakerOpened counts a robot being paused after consecutive failures.
	BreakerOpened(platform senders.Platform)
	// Claimed observes one claim transaction: the queue's own latency, which a growing backlog
	// must not lengthen.
	Claimed(d time.Duration)
}

type noMetrics struct{}

func (noMetrics) Attempt(senders.Platform, string, senders.Outcome, int, time.Duration) {}
func (noMetrics) Deferred(senders.Platform, string, int)                                {}
func (noMetrics) BreakerOpened(senders.Platform)                                        {}
func (noMetrics) Claimed(time.Duration)                                                 {}

func (c Config) withDefaults(platforms *senders.Registry) Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.BreakerThreshold <= 0 {
		c.BreakerThreshold = 5
	}
	set(&c.PollInterval, time.Second)
	set(&c.Lease, 8*time.Second)
	set(&c.MaxAge, time.Hour)
	set(&c.Grace, 10*time.Second)
	set(&c.HoldResults, 10*time.Minute)
	set(&c.RetryBase, 2*time.Second)
	set(&c.RetryCap, 5*time.Minute)
	set(&c.Linger, 2*time.Second)
	set(&c.BreakerCooldown, time.Minute)
	if c.Budgets == nil {
		c.Budgets = map[senders.Platform][]senders.Window{}
		for _, d := range platforms.All() {
			c.Budgets[d.Platform] = d.Windows
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
	return c
}
