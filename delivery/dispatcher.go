package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"gorm.io/gorm"
)

// sweepInterval is how often an alert left PENDING by a process that died between recording its
// last delivery and finishing the alert is looked for.
const sweepInterval = 30 * time.Second

// Dispatcher sends the deliveries waiting in the database. Any number of dispatchers, in one process
// or in replicas sharing the database, may drain one queue: claims never overlap, and each robot's
// rate budget holds across all of them.
type Dispatcher struct {
	db        *gorm.DB
	secrets   Opener
	book      *models.Store // names namespaces in logs and metrics
	notifier  *notify.Notifier
	cfg       Config
	policy    policy
	log       *slog.Logger
	outage    *outage
	heartbeat *heartbeat
	wake      chan struct{}
}

// New returns a dispatcher over the address book's database, whose key ring opens the robots'
// signing secrets. Call Run to start it.
func New(book *models.Store, notifier *notify.Notifier, cfg Config) *Dispatcher {
	cfg = cfg.withDefaults(notifier.Platforms())
	return &Dispatcher{
		db: book.DB(), secrets: book, book: book, notifier: notifier, cfg: cfg, policy: cfg.policy(),
		log: cfg.Logger, outage: &outage{log: cfg.Logger}, heartbeat: newHeartbeat(), wake: make(chan struct{}, 1),
	}
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
	key  string
	more bool
}

// retryHeld is how soon robots are polled again after a claim skipped them because another
// transaction held them: such locks last a claim or a recording, not a send.
const retryHeld = 20 * time.Millisecond

// gatherMax is how long freed workers may wait for others about to be freed, so that one claim
// transaction serves them all. A claim costs about the same for one robot as for a hundred.
const gatherMax = 25 * time.Millisecond

// Run dispatches until ctx ends, then stops claiming, lets in-flight sends finish within Grace,
// cancels the rest (their deliveries are released: due again at once, for any replica) and
// returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Sends and result recording outlive ctx: a stop must not lose what is already in flight.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	workCtx := context.WithoutCancel(ctx)
	// Renewal stops only after drain and rec.stop (defers run last first): in-flight claims keep
	// their leases until their results are recorded.
	renewCtx, stopRenewing := context.WithCancel(workCtx)
	var renewing sync.WaitGroup
	renewing.Go(func() { d.renewLeases(renewCtx) })
	defer renewing.Wait()
	defer stopRenewing()
	rec := d.startRecorder(workCtx)
	defer rec.stop() // after drain: every worker has had its results recorded by then

	inflight := map[string]bool{}
	done := make(chan workerDone, d.cfg.Workers)
	ticker := time.NewTicker(d.cfg.PollInterval)
	defer ticker.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	retrying := false
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	defer gather.Stop()
	gathering := false
	pollNow, saturated, freed := true, false, false
	lastSweep := time.Time{}
	for {
		if freed && !pollNow {
			// Workers were freed while the queue had more robots than workers. While results are
			// still being recorded, more workers are about to be freed: claim for all of them at
			// once, unless half the workers are idle or they have waited long enough.
			switch {
			case !rec.busy() || len(inflight) <= d.cfg.Workers/2:
				pollNow = true
			case !gathering:
				gathering = true
				gather.Reset(gatherMax)
			}
		}
		if pollNow {
			pollNow, freed = false, false
			if gathering {
				gathering = false
				gather.Stop()
			}
			polled := time.Now()
			p, err := d.poll(ctx, workCtx, sendCtx, rec, inflight, done)
			if err != nil && ctx.Err() == nil && !d.outage.failed("polling the queue", polled, err) {
				d.log.Warn("poll delivery queue", "error", err)
			}
			saturated, pollNow = p.saturated, p.more
			if p.held && !retrying {
				retrying = true
				retry.Reset(min(retryHeld, d.cfg.PollInterval))
			}
		}
		select {
		case <-ctx.Done():
			d.drain(inflight, done, func() {
				cancelSends()
				rec.giveUp()
			})
			return nil
		case <-d.wake:
			pollNow = true
		case <-retry.C:
			retrying = false
			pollNow = true
		case <-gather.C:
			gathering = false
			pollNow = true
		case <-ticker.C:
			pollNow = true
			released := time.Now()
			if err := releaseHeld(workCtx, d.db); err != nil && !d.outage.failed("releasing held deliveries", released, err) {
				d.log.Warn("release held deliveries", "error", err)
			}
			if time.Since(lastSweep) >= sweepInterval {
				lastSweep = time.Now()
				if err := sweepFinishedAlerts(workCtx, d.db); err != nil && !d.outage.failed("sweeping finished alerts", lastSweep, err) {
					d.log.Warn("sweep finished alerts", "error", err)
				}
			}
		case w := <-done:
			// A freed worker looks for more work at once if its robot has more; if the last poll
			// found more robots than workers, it joins the others being freed (see above).
			for {
				delete(inflight, w.key)
				pollNow = pollNow || w.more
				freed = freed || saturated
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

// drain waits for in-flight robots, cancelling their sends (and giving up results held through an
// outage) once the grace period is over.
func (d *Dispatcher) drain(inflight map[string]bool, done chan workerDone, cancelSends func()) {
	grace := time.NewTimer(d.cfg.Grace)
	defer grace.Stop()
	for len(inflight) > 0 {
		select {
		case w := <-done:
			delete(inflight, w.key)
		case <-grace.C:
			cancelSends()
		}
	}
}

// polled is what one poll found besides the work it started.
type polled struct {
	// saturated: robots were left waiting for a worker.
	saturated bool
	// more: a claimed robot has more due deliveries than one claim takes, and a worker is free.
	more bool
	// held: robots were skipped because another transaction held them.
	held bool
}

// poll claims the robots with due deliveries, oldest first, up to the free workers, in as few claim
// transactions as it can, and starts a worker for each robot it got. When the queue is idle it
// costs one indexed query.
func (d *Dispatcher) poll(ctx, workCtx, sendCtx context.Context, rec *recorder, inflight map[string]bool, done chan<- workerDone) (polled, error) {
	var p polled
	free := d.cfg.Workers - len(inflight)
	if free <= 0 {
		p.saturated = true
		return p, nil
	}
	// In-flight robots may still have due deliveries; fetch enough to fill the free workers anyway.
	limit := free + len(inflight)
	var keys []string
	started := time.Now()
	err := d.due(d.db.WithContext(ctx).Model(&Delivery{}).Select("url_hash"), nowExpr(d.db)).
		Group("url_hash").Order("MIN(next_attempt_at)").Limit(limit).
		Pluck("url_hash", &keys).Error
	if err != nil {
		return p, fmt.Errorf("find due robots: %w", err)
	}
	d.outage.answered(started)
	var pick []string
	for _, h := range keys {
		if inflight[h] {
			continue
		}
		if len(pick) == free {
			p.saturated = true
			break
		}
		pick = append(pick, h)
	}
	p.saturated = p.saturated || len(keys) == limit
	for chunk := range slices.Chunk(pick, claimRobots) {
		// Claims run on workCtx: once leased, deliveries are sent or released, never abandoned.
		began := time.Now()
		claims, held, err := d.claimRobots(workCtx, chunk)
		d.cfg.Metrics.Claimed(time.Since(began))
		if err != nil {
			return p, err
		}
		p.held = p.held || len(held) > 0
		for _, c := range claims {
			if !c.work() {
				p.more = p.more || c.more
				continue
			}
			inflight[c.key] = true
			d.heartbeat.hold(c)
			go func() {
				d.serve(sendCtx, rec, c)
				d.heartbeat.release(c)
				done <- workerDone{key: c.key, more: c.more}
			}()
		}
	}
	p.more = p.more && len(inflight) < d.cfg.Workers
	return p, nil
}

// serve sends one robot's claimed messages and waits until their results are recorded. The
// messages were all reserved within the robot's budget, so they may go out together; a slow robot
// then costs one lease, not one per message, and holds up only its own worker.
func (d *Dispatcher) serve(sendCtx context.Context, rec *recorder, c *claim) {
	var wg sync.WaitGroup
	if len(c.dropped) > 0 {
		wg.Go(func() { d.settleUnsent(rec, c, Dropped, c.dropped) })
	}
	if len(c.expired) > 0 {
		wg.Go(func() { d.settleUnsent(rec, c, Expired, c.expired) })
	}
	for _, b := range c.batches {
		wg.Go(func() { d.send(sendCtx, rec, c, b) })
	}
	wg.Wait()
}

// settleUnsent records a verdict reached without a request: deliveries past their max age, or
// dropped by quiet hours.
func (d *Dispatcher) settleUnsent(rec *recorder, c *claim, outcome senders.Outcome, items []*item) {
	r := &result{c: c, b: &batch{items: items}, outcome: outcome}
	rec.record(r)
	if r.err != nil {
		d.log.Warn("record deliveries settled without a send", "outcome", string(outcome), "error", r.err)
	}
	for _, it := range items {
		d.logAttempt(c, &batch{items: []*item{it}, robot: it.robot}, outcome, senders.Result{}, r.fates, nil)
		d.cfg.Metrics.Attempt(c.platform, d.namespaceName(it.alert.NamespaceID), outcome, 1, 0)
	}
}

// send makes one request and records its verdict.
func (d *Dispatcher) send(sendCtx context.Context, rec *recorder, c *claim, b *batch) {
	res := d.sendOpened(sendCtx, b)
	outcome := res.Outcome
	if sendCtx.Err() != nil && res.Outcome != senders.Sent {
		outcome = Released
		res.Err = fmt.Errorf("interrupted by shutdown, released for another attempt: %w", res.Err)
	}
	r := &result{c: c, b: b, outcome: outcome, res: res}
	rec.record(r)
	d.logAttempt(c, b, outcome, res, r.fates, r.err)
	d.cfg.Metrics.Attempt(c.platform, d.namespaceName(b.items[0].alert.NamespaceID), outcome, len(b.items), res.Duration)
}

// namespaceName names a namespace for logs and metrics; a batch's items share one (see pack).
func (d *Dispatcher) namespaceName(id uint) string {
	if d.book == nil {
		return models.FormatID(id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ns, err := d.book.NamespaceByID(ctx, id)
	if err != nil {
		return models.FormatID(id)
	}
	return ns.Name
}

// sendOpened sends b with its signing secret opened: deliveries keep secrets sealed, and only this
// moment needs the plaintext.
func (d *Dispatcher) sendOpened(ctx context.Context, b *batch) senders.Result {
	opened, err := b.robot.open(d.secrets)
	if err != nil {
		// Start-up checks that the key opens every stored secret, so this needs a key removed while
		// running; retrying cannot help.
		return senders.Result{Outcome: senders.Permanent, Err: err}
	}
	return d.notifier.Send(ctx, opened, b.msg)
}

// logAttempt writes the one line per attempt: which deliveries, which robot (redacted), the verdict.
func (d *Dispatcher) logAttempt(c *claim, b *batch, outcome senders.Outcome, res senders.Result, fates map[uint]fate, recErr error) {
	ids := make([]uint, len(b.items))
	alerts := make([]uint, len(b.items))
	for i, it := range b.items {
		ids[i], alerts[i] = it.d.ID, it.alert.ID
	}
	attrs := []slog.Attr{
		slog.Any("delivery_ids", ids), slog.Any("alert_ids", alerts),
		slog.String("namespace", d.namespaceName(b.items[0].alert.NamespaceID)),
		slog.String("platform", string(c.platform)), slog.String("robot", senders.RedactURL(b.robot.url)),
		slog.String("outcome", string(outcome)), slog.Int("alerts", len(b.items)),
		slog.Int("attempt", b.items[0].d.Attempts+1), slog.Int64("duration_ms", res.Duration.Milliseconds()),
	}
	if res.HTTPStatus != 0 {
		attrs = append(attrs, slog.Int("http_status", res.HTTPStatus))
	}
	if res.PlatformCode != nil {
		attrs = append(attrs, slog.Int("platform_code", *res.PlatformCode))
	}
	if f, ok := fates[b.items[0].d.ID]; ok {
		attrs = append(attrs, slog.String("status", string(f.status)))
		if !f.next.IsZero() {
			attrs = append(attrs, slog.Time("next_attempt_at", f.next))
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
