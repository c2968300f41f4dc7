package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// sweepInterval is how often an alert left PENDING by a process that died between recording its
// last delivery and finishing the alert is looked for.
const sweepInterval = 30 * time.Second

// Dispatcher sends the deliveries waiting in the database. Any number of dispatchers, in one process
// or in replicas sharing the database, may drain one queue: claims never overlap, and each robot's
// rate budget holds across all of them.
type Dispatcher struct {
	db       *gorm.DB
	notifier *senders.Notifier
	cfg      Config
	log      *slog.Logger
	wake     chan struct{}
}

// New returns a dispatcher over the store's database. Call Run to start it.
func New(store *models.Store, notifier *senders.Notifier, cfg Config) *Dispatcher {
	cfg = cfg.withDefaults()
	return &Dispatcher{db: store.DB(), notifier: notifier, cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
}

// Wake tells the dispatcher that new deliveries were committed, so it polls now rather than at the
// next interval. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

type workerDone struct {
	hash string
	more bool
}

// Run dispatches until ctx ends, then stops claiming, lets in-flight sends finish within Grace,
// cancels the rest (their deliveries are released: due again at once, for any replica) and
// returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Sends and result recording outlive ctx: a stop must not lose what is already in flight.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	workCtx := context.WithoutCancel(ctx)

	inflight := map[string]bool{}
	done := make(chan workerDone, d.cfg.Workers)
	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	pollNow, saturated := true, false
	lastSweep := time.Time{}
	for {
		if pollNow {
			pollNow = false
			var err error
			if saturated, err = d.poll(ctx, workCtx, sendCtx, inflight, done); err != nil && ctx.Err() == nil {
				d.log.Warn("poll delivery queue", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			d.drain(inflight, done, cancelSends)
			return nil
		case <-d.wake:
			pollNow = true
		case <-ticker.C:
			pollNow = true
			if time.Since(lastSweep) >= sweepInterval {
				lastSweep = time.Now()
				if err := models.SweepFinishedAlerts(workCtx, d.db); err != nil {
					d.log.Warn("sweep finished alerts", "error", err)
				}
			}
		case w := <-done:
			// A freed worker looks for more work at once if its robot has more, or if the last poll
			// found more robots than workers; completions that arrived together share one poll.
			for {
				delete(inflight, w.hash)
				pollNow = pollNow || w.more || saturated
				select {
				case w = <-done:
					continue
				default:
				}
				break
			}
		}
	}
}

// drain waits for in-flight robots, cancelling their sends once the grace period is over.
func (d *Dispatcher) drain(inflight map[string]bool, done chan workerDone, cancelSends context.CancelFunc) {
	grace := time.NewTimer(d.cfg.Grace)
	defer grace.Stop()
	for len(inflight) > 0 {
		select {
		case w := <-done:
			delete(inflight, w.hash)
		case <-grace.C:
			cancelSends()
		}
	}
}

// poll starts a worker for each robot with due deliveries, oldest first, up to the free workers.
// When the queue is idle it costs one indexed query. It reports whether robots were left waiting
// for a worker.
func (d *Dispatcher) poll(ctx, workCtx, sendCtx context.Context, inflight map[string]bool, done chan<- workerDone) (bool, error) {
	free := d.cfg.Workers - len(inflight)
	if free <= 0 {
		return true, nil
	}
	// In-flight robots may still have due deliveries; fetch enough to fill the free workers anyway.
	limit := free + len(inflight)
	var hashes []string
	err := d.db.WithContext(ctx).Model(&models.Delivery{}).Select("url_hash").
		Where("status = ? AND next_attempt_at <= ?", models.DeliveryPending, d.nowExpr()).
		Group("url_hash").Order("MIN(next_attempt_at)").Limit(limit).
		Pluck("url_hash", &hashes).Error
	if err != nil {
		return false, fmt.Errorf("find due robots: %w", err)
	}
	saturated := false
	for _, h := range hashes {
		if inflight[h] {
			continue
		}
		if free == 0 {
			saturated = true
			break
		}
		inflight[h] = true
		free--
		go func() {
			more := d.serve(workCtx, sendCtx, h)
			done <- workerDone{hash: h, more: more}
		}()
	}
	return saturated || len(hashes) == limit, nil
}

// nowExpr is the database's clock inside a statement, saving a round trip on the idle poll.
func (d *Dispatcher) nowExpr() any {
	if models.IsMySQL(d.db) {
		return gorm.Expr("UTC_TIMESTAMP(6)")
	}
	return time.Now().UTC()
}

// serve claims one robot's due deliveries and sends them. It reports whether more may be due.
func (d *Dispatcher) serve(workCtx, sendCtx context.Context, hash string) bool {
	c, err := d.claimRobot(workCtx, hash)
	if err != nil {
		d.log.Warn("claim deliveries", "error", err)
		return false
	}
	if c == nil {
		return false
	}
	if len(c.expired) > 0 {
		if _, err := d.record(workCtx, c.token, c.expired, outcomeExpired, senders.Result{}); err != nil {
			d.log.Warn("expire deliveries", "error", err)
		}
		for _, it := range c.expired {
			d.logAttempt(c, &batch{items: []*item{it}, target: it.d.Target()}, outcomeExpired, senders.Result{}, nil, nil)
		}
		d.cfg.Metrics.Attempt(c.platform, outcomeExpired, len(c.expired), 0)
	}
	// The claim's messages were all reserved within the robot's budget, so they may go out together;
	// a slow robot then costs one lease, not one per message.
	var wg sync.WaitGroup
	for _, b := range c.batches {
		wg.Go(func() { d.send(workCtx, sendCtx, c, b) })
	}
	wg.Wait()
	return c.more
}

// send makes one request and records its verdict.
func (d *Dispatcher) send(workCtx, sendCtx context.Context, c *claim, b *batch) {
	res := d.notifier.Send(sendCtx, b.target, b.msg)
	outcome := res.Outcome.String()
	if sendCtx.Err() != nil && res.Outcome != senders.Sent {
		outcome = outcomeReleased
		res.Err = fmt.Errorf("interrupted by shutdown, released for another attempt: %w", res.Err)
	}
	fates, err := d.record(workCtx, c.token, b.items, outcome, res)
	d.logAttempt(c, b, outcome, res, fates, err)
	d.cfg.Metrics.Attempt(c.platform, outcome, len(b.items), res.Duration)
	if err := d.settle(workCtx, c, b, outcome, res); err != nil {
		d.log.Warn("settle robot", "robot", senders.RedactURL(b.target.URL), "error", err)
	}
}

// logAttempt writes the one line per attempt: which deliveries, which robot (redacted), the verdict.
func (d *Dispatcher) logAttempt(c *claim, b *batch, outcome string, res senders.Result, fates map[uint]fate, recErr error) {
	ids := make([]uint, len(b.items))
	alerts := make([]uint, len(b.items))
	for i, it := range b.items {
		ids[i], alerts[i] = it.d.ID, it.alert.ID
	}
	attrs := []slog.Attr{
		slog.Any("delivery_ids", ids), slog.Any("alert_ids", alerts),
		slog.String("platform", string(c.platform)), slog.String("robot", senders.RedactURL(b.target.URL)),
		slog.String("outcome", outcome), slog.Int("alerts", len(b.items)),
		slog.Int("attempt", b.items[0].d.Attempts+1), slog.Int64("duration_ms", res.Duration.Milliseconds()),
	}
	if res.HTTPStatus != 0 {
		attrs = append(attrs, slog.Int("http_status", res.HTTPStatus))
	}
	if res.PlatformCode != nil {
		attrs = append(attrs, slog.Int("platform_code", *res.PlatformCode))
	}
	if f, ok := fates[b.items[0].d.ID]; ok {
		attrs = append(attrs, slog.String("status", f.status))
		if f.next != nil {
			attrs = append(attrs, slog.Time("next_attempt_at", *f.next))
		}
	}
	level := slog.LevelInfo
	if res.Err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", res.Err.Error()))
	}
	if recErr != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("record_error", recErr.Error()))
	}
	d.log.LogAttrs(context.Background(), level, "delivery attempt", attrs...)
}

// transaction runs one queue transaction; see models.QueueTx.
func (d *Dispatcher) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return models.QueueTx(ctx, d.db, fn)
}
