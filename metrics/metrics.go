// Package metrics exposes Herald's Prometheus metrics: deliveries, attempts, coalescing, the queue
// and GraphQL requests. Labels are bounded sets (platforms, outcomes, schema field names, error
// codes): never a URL, token, contact name or client-chosen operation name.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald/senders"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the registry and the collectors Herald updates.
type Metrics struct {
	registry  *prometheus.Registry
	attempts  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	coalesced *prometheus.CounterVec
	deferred  *prometheus.CounterVec
	breaker   *prometheus.CounterVec
	graphql   *prometheus.CounterVec
	inbound   *prometheus.CounterVec
	claims    prometheus.Histogram
	retention *prometheus.CounterVec
}

// New registers Herald's collectors. countDeliveries, which counts the deliveries in a status, is
// read at scrape time.
func New(countDeliveries func(ctx context.Context, status string) (int64, error)) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_attempts_total",
			Help: "HTTP calls to robots, by platform, namespace and outcome (SENT, RETRYABLE, PERMANENT, EXPIRED, RELEASED).",
		}, []string{"platform", "namespace", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_delivery_attempt_duration_seconds",
			Help:    "Duration of one HTTP call to a robot.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"platform"}),
		coalesced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_coalesced_messages_total",
			Help: "Messages that combined several alerts for one robot, by platform.",
		}, []string{"platform"}),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_deferred_total",
			Help: "Deliveries pushed back without an attempt, by platform and reason (budget, paused, linger).",
		}, []string{"platform", "reason"}),
		breaker: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_robot_breaker_opened_total",
			Help: "Robots paused after consecutive failures, by platform.",
		}, []string{"platform"}),
		graphql: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_graphql_requests_total",
			Help: "GraphQL operations by root field, namespace and outcome (ok or the first error's code).",
		}, []string{"operation", "namespace", "outcome"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_inbound_notifications_total",
			Help: "Notifications posted to integrations' hooks, by integration kind, namespace and outcome (accepted, duplicate, skipped, or why it was refused).",
		}, []string{"kind", "namespace", "outcome"}),
		claims: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_delivery_claim_duration_seconds",
			Help:    "Duration of one claim transaction of the dispatcher (locking robots and their due deliveries).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		retention: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_retention_deleted_total",
			Help: "Rows of finished history deleted by retention (HERALD_RETENTION), by kind (alerts, deliveries, attempts, audit).",
		}, []string{"kind"}),
	}
	count := func(name, help, status string) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := countDeliveries(ctx, status)
			if err != nil {
				slog.Warn("metrics: count deliveries", "status", status, "error", err)
				return -1
			}
			return float64(n)
		})
	}
	depth := count("herald_delivery_queue_depth", "Deliveries waiting to be sent (PENDING), across all replicas.", "PENDING")
	held := count("herald_deliveries_held", "Deliveries held by groups' quiet hours (HELD), across all replicas.", "HELD")
	m.registry.MustRegister(m.attempts, m.duration, m.coalesced, m.deferred, m.breaker, m.graphql, m.inbound, m.claims, m.retention, depth, held,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Attempt records one HTTP call to a robot that carried alerts alerts of the namespace.
func (m *Metrics) Attempt(platform senders.Platform, namespace string, outcome senders.Outcome, alerts int, d time.Duration) {
	p := string(platform)
	m.attempts.WithLabelValues(p, namespace, string(outcome)).Inc()
	m.duration.WithLabelValues(p).Observe(d.Seconds())
	if alerts > 1 {
		m.coalesced.WithLabelValues(p).Inc()
	}
}

// Deferred records deliveries pushed back without an attempt.
func (m *Metrics) Deferred(platform senders.Platform, reason string, deliveries int) {
	m.deferred.WithLabelValues(string(platform), reason).Add(float64(deliveries))
}

// BreakerOpened records a robot being paused after consecutive failures.
func (m *Metrics) BreakerOpened(platform senders.Platform) {
	m.breaker.WithLabelValues(string(platform)).Inc()
}

// GraphQLRequest records one GraphQL operation in namespace ("" before it was resolved).
func (m *Metrics) GraphQLRequest(operation, namespace, outcome string) {
	m.graphql.WithLabelValues(operation, namespace, outcome).Inc()
}

// InboundNotification records one notification posted to a hook; kind and namespace are "" when
// the token was refused.
func (m *Metrics) InboundNotification(kind, namespace, outcome string) {
	m.inbound.WithLabelValues(kind, namespace, outcome).Inc()
}

// Claimed observes one claim transaction of the dispatcher.
func (m *Metrics) Claimed(d time.Duration) { m.claims.Observe(d.Seconds()) }

// RetentionDeleted records rows of one kind deleted by history retention.
func (m *Metrics) RetentionDeleted(kind string, rows int) {
	if rows > 0 {
		m.retention.WithLabelValues(kind).Add(float64(rows))
	}
}
