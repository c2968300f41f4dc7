package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Retention deletes finished history once it is older than RetentionConfig.Keep: alerts none of
// whose deliveries is still PENDING or HELD, with their deliveries and attempts, and the audit
// log. Every replica runs one; a lease row lets one pass run at a time across all of them.
//
// What it leaves: robot rows (the outbox caches that they exist, and they carry the breaker) and
// the robots' send logs, which are keyed by robot rather than by alert and pruned by the claim
// (pruneSends) once they are older than any rate window, so a budget never loses a row it counts.
type Retention struct {
	db     *gorm.DB
	book   *models.Store
	cfg    RetentionConfig
	log    *slog.Logger
	holder string
	// onLease, for tests, is told when a pass takes the lease (true) and just before it gives it
	// back (false).
	onLease func(held bool)
}

// RetentionConfig configures Retention, read by server.go. Zero fields take the defaults, except
// Keep.
type RetentionConfig struct {
	// Keep is how long finished history is kept; zero keeps it forever and Run does nothing.
	Keep time.Duration
	// Interval is the time between passes; FirstPass the wait after start, short so that a
	// backlog starts going soon after an upgrade, long enough to stay out of the start-up's way.
	Interval  time.Duration
	FirstPass time.Duration
	// BatchSize bounds the alerts, and the audit entries, one transaction deletes; the deliveries
	// are bounded by deliveriesPerAlert times as many, so a large fan-out cannot make one
	// transaction long.
	BatchSize int
	// Pause is the rest between two batches, in which other transactions get the rows and the
	// log a batch touched.
	Pause time.Duration
	// Lease is how long a pass holds the lease row without renewing it. A pass renews it before a
	// batch once a third of it has gone, and a batch lasts at most queueTxTimeout: a lease longer
	// than one and a half times that never runs out under a live batch, and a replica that
	// stalled past it finds out before its next batch.
	Lease time.Duration
	// Logger gets one line per pass that deleted something, and its errors.
	Logger *slog.Logger
	// Metrics counts what was deleted; nil counts nothing.
	Metrics RetentionMetrics
}

// RetentionMetrics receives what retention deleted; package metrics implements it for Prometheus.
type RetentionMetrics interface {
	// RetentionDeleted counts rows deleted of one kind: "alerts", "deliveries", "attempts" or
	// "audit".
	RetentionDeleted(kind string, rows int)
}

type noRetentionMetrics struct{}

func (noRetentionMetrics) RetentionDeleted(string, int) {}

// deliveriesPerAlert is how many deliveries per alert of a batch one transaction deletes at most.
const deliveriesPerAlert = 5

// retentionLease names the lease row of retention passes.
const retentionLease = "retention"

func (c RetentionConfig) withDefaults() RetentionConfig {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.Interval, time.Hour)
	set(&c.FirstPass, time.Minute)
	set(&c.Pause, 100*time.Millisecond)
	set(&c.Lease, 4*queueTxTimeout)
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = noRetentionMetrics{}
	}
	return c
}

// NewRetention returns the history retention over the address book's database. Call Run to
// start it.
func NewRetention(book *models.Store, cfg RetentionConfig) *Retention {
	cfg = cfg.withDefaults()
	return &Retention{db: book.DB(), book: book, cfg: cfg, log: cfg.Logger, holder: newToken()}
}

// Run makes a pass FirstPass after it starts and then every Interval, until ctx ends. A pass cut
// short by ctx rolls back its current batch; what earlier batches deleted stays deleted.
func (r *Retention) Run(ctx context.Context) {
	if r.cfg.Keep <= 0 {
		return
	}
	next := time.NewTimer(r.cfg.FirstPass)
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
		}
		res, err := r.pass(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("history retention", "error", err)
		}
		if res.alerts+res.deliveries+res.attempts+res.audit > 0 {
			r.log.Info("history retention deleted old history", "keep", r.cfg.Keep.String(), "alerts", res.alerts,
				"deliveries", res.deliveries, "attempts", res.attempts, "audit_entries", res.audit, "batches", res.batches)
		}
		next.Reset(r.cfg.Interval)
	}
}

// retained is what one pass did.
type retained struct {
	// ran: the pass held the lease; another replica's pass was running when it is false.
	ran bool
	// batches counts the transactions that deleted something.
	batches                             int
	alerts, deliveries, attempts, audit int
}

// errRetentionLeaseLost stops a pass whose lease another replica took: it stalled past the lease,
// and the other now works through what is left.
var errRetentionLeaseLost = errors.New("the retention lease was taken over by another replica")

// pass deletes everything old enough, a batch at a time, while it holds the lease; it returns
// without deleting anything when another replica holds it. The cutoff is read once, on the
// database clock, so a pass ends even while new history keeps arriving.
func (r *Retention) pass(ctx context.Context) (retained, error) {
	var res retained
	if r.cfg.Keep <= 0 {
		return res, nil
	}
	held, err := takeLease(ctx, r.db, retentionLease, r.holder, r.cfg.Lease)
	if err != nil || !held {
		return res, err
	}
	res.ran = true
	renewed := time.Now()
	if r.onLease != nil {
		r.onLease(true)
	}
	defer func() {
		if r.onLease != nil {
			r.onLease(false)
		}
		// Given back at once rather than left to run out, so that a replica whose pass is due
		// next need not wait a lease. Even when ctx has ended: the lease is not work to abandon.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := releaseLease(rctx, r.db, retentionLease, r.holder); err != nil {
			r.log.Warn("history retention", "error", err)
		}
	}()
	now, err := dbNow(r.db.WithContext(ctx))
	if err != nil {
		return res, fmt.Errorf("history retention: %w", err)
	}
	cutoff := now.Add(-r.cfg.Keep).UTC()
	// keep is called before every batch: it rests between batches and keeps the lease.
	first := true
	keep := func() error {
		if !first {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(r.cfg.Pause):
			}
		}
		first = false
		if time.Since(renewed) < r.cfg.Lease/3 {
			return nil
		}
		ok, err := renewLease(ctx, r.db, retentionLease, r.holder, r.cfg.Lease)
		if err != nil {
			return err
		}
		if !ok {
			return errRetentionLeaseLost
		}
		renewed = time.Now()
		return nil
	}
	if err := r.deleteAlerts(ctx, cutoff, keep, &res); err != nil {
		return res, fmt.Errorf("history retention: %w", err)
	}
	for {
		if err := keep(); err != nil {
			return res, fmt.Errorf("history retention: %w", err)
		}
		// Bounded like a batch of alerts, which the lease's length counts on.
		bctx, cancel := context.WithTimeout(ctx, queueTxTimeout)
		n, err := r.book.PruneAuditLog(bctx, cutoff, r.cfg.BatchSize)
		cancel()
		if err != nil {
			return res, fmt.Errorf("history retention: %w", err)
		}
		if n == 0 {
			return res, nil
		}
		res.batches++
		res.audit += n
		r.cfg.Metrics.RetentionDeleted("audit", n)
	}
}

// deleteAlerts works through the alerts created before cutoff in id order, a batch per
// transaction, until a batch finds none.
func (r *Retention) deleteAlerts(ctx context.Context, cutoff time.Time, keep func() error, res *retained) error {
	// The last old alert's id bounds the range the batches read, so the last batch stops there
	// instead of walking every younger alert to find that none is old. It is read, not assumed
	// from the times: ids follow creation only roughly (a shifted clock, a restored database).
	// One scan of the time index, which the first pass after an upgrade reads whole once; later
	// passes read only what aged since.
	var last *uint
	if err := r.db.WithContext(ctx).Model(&Alert{}).Where("created_at < ?", cutoff).Select("MAX(id)").Scan(&last).Error; err != nil {
		return fmt.Errorf("find the last old alert: %w", err)
	}
	if last == nil {
		return nil
	}
	var after uint
	for {
		if err := keep(); err != nil {
			return err
		}
		b, err := r.deleteAlertBatch(ctx, cutoff, after, *last)
		if err != nil {
			return err
		}
		if !b.found {
			return nil
		}
		after = b.next
		if b.alerts+b.deliveries+b.attempts > 0 {
			res.batches++
		}
		res.alerts += b.alerts
		res.deliveries += b.deliveries
		res.attempts += b.attempts
		r.cfg.Metrics.RetentionDeleted("alerts", b.alerts)
		r.cfg.Metrics.RetentionDeleted("deliveries", b.deliveries)
		r.cfg.Metrics.RetentionDeleted("attempts", b.attempts)
	}
}

// alertBatch is what one transaction of deleteAlerts did.
type alertBatch struct {
	// found: some alert qualified; the pass is over when none did.
	found bool
	// next is the id the next batch reads after.
	next                         uint
	alerts, deliveries, attempts int
}

// liveDeliveries are the statuses of deliveries still in flight: an alert with one of them stays.
var liveDeliveries = []DeliveryStatus{DeliveryPending, DeliveryHeld}

// noLiveDelivery is the condition on alerts that none of their deliveries is in flight.
const noLiveDelivery = "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id AND d.status IN ?)"

// deleteAlertBatch deletes, in one transaction, the next BatchSize old finished alerts after the id
// after (up to last), children first: attempts, deliveries, then the alerts. When their deliveries
// are more than the batch may take, it takes fewer alerts; an alert with more deliveries than that
// by itself loses a batch's worth of them per transaction and goes with the last.
//
// The ids are read without locks and the rows deleted by id. A finished delivery never becomes live
// again, so what was read stays true; the deletes check it all the same, so that no change to that
// rule could make retention delete work in flight.
func (r *Retention) deleteAlertBatch(ctx context.Context, cutoff time.Time, after, last uint) (alertBatch, error) {
	var b alertBatch
	maxDeliveries := deliveriesPerAlert * r.cfg.BatchSize
	err := queueTx(ctx, r.db, func(tx *gorm.DB) error {
		b = alertBatch{next: after}
		var ids []uint
		err := tx.Model(&Alert{}).Where("id > ? AND id <= ? AND created_at < ? AND status <> ?", after, last, cutoff, AlertPending).
			Where(noLiveDelivery, liveDeliveries).Order("id").Limit(r.cfg.BatchSize).Pluck("id", &ids).Error
		if err != nil {
			return fmt.Errorf("find old alerts: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		b.found = true
		var counts []struct {
			AlertID uint
			N       int
		}
		err = tx.Model(&Delivery{}).Select("alert_id, COUNT(*) AS n").Where("alert_id IN ?", ids).Group("alert_id").Scan(&counts).Error
		if err != nil {
			return fmt.Errorf("count the deliveries of old alerts: %w", err)
		}
		per := make(map[uint]int, len(counts))
		for _, c := range counts {
			per[c.AlertID] = c.N
		}
		var whole []uint
		total := 0
		for _, id := range ids {
			if len(whole) > 0 && total+per[id] > maxDeliveries {
				break
			}
			whole = append(whole, id)
			total += per[id]
		}
		partial := total > maxDeliveries // then whole is one alert
		q := tx.Model(&Delivery{}).Where("alert_id IN ?", whole)
		if partial {
			q = q.Limit(maxDeliveries)
		}
		var deliveries []uint
		if err := q.Pluck("id", &deliveries).Error; err != nil {
			return fmt.Errorf("find the deliveries of old alerts: %w", err)
		}
		for chunk := range slices.Chunk(deliveries, claimRows) {
			res := tx.Where("delivery_id IN ?", chunk).Delete(&DeliveryAttempt{})
			if res.Error != nil {
				return fmt.Errorf("delete old attempts: %w", res.Error)
			}
			b.attempts += int(res.RowsAffected)
			res = tx.Where("id IN ? AND status NOT IN ?", chunk, liveDeliveries).Delete(&Delivery{})
			if res.Error != nil {
				return fmt.Errorf("delete old deliveries: %w", res.Error)
			}
			b.deliveries += int(res.RowsAffected)
		}
		if partial {
			return nil // the same alert comes first again, with fewer deliveries
		}
		res := tx.Where("id IN ? AND status <> ?", whole, AlertPending).Where(noLiveDelivery, liveDeliveries).Delete(&Alert{})
		if res.Error != nil {
			return fmt.Errorf("delete old alerts: %w", res.Error)
		}
		b.alerts = int(res.RowsAffected)
		b.next = whole[len(whole)-1]
		return nil
	})
	return b, err
}

// leaseRow is a named lease that one process at a time holds across every replica sharing the
// database. It is taken by an UPDATE that matches only a lease run out (or the holder's own), on
// the database clock: one statement, atomic on SQLite and on MySQL alike, and no lock held between
// statements, so a holder that dies holds nothing but a row that runs out.
type leaseRow struct {
	Name      string    `gorm:"primaryKey;size:64"`
	Holder    string    `gorm:"size:32;not null"`
	ExpiresAt time.Time `gorm:"precision:6;not null"`
}

func (leaseRow) TableName() string { return "leases" }

// neverHeld is the expiry of a lease row nobody has taken yet: long run out.
var neverHeld = time.Unix(0, 0).UTC()

// takeLease takes the named lease for d unless another holder's has not run out, and reports
// whether it did.
func takeLease(ctx context.Context, db *gorm.DB, name, holder string, d time.Duration) (bool, error) {
	db = db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&leaseRow{Name: name, ExpiresAt: neverHeld}).Error; err != nil {
		return false, fmt.Errorf("create lease %s: %w", name, err)
	}
	now, err := dbNow(db)
	if err != nil {
		return false, err
	}
	res := db.Model(&leaseRow{}).Where("name = ? AND (expires_at <= ? OR holder = ?)", name, now, holder).
		Updates(map[string]any{"holder": holder, "expires_at": now.Add(d)})
	if res.Error != nil {
		return false, fmt.Errorf("take lease %s: %w", name, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// renewLease extends the holder's lease to d from now, and reports false when it is no longer the
// holder. A lease that ran out but was not taken is still the holder's: nobody else worked meanwhile.
func renewLease(ctx context.Context, db *gorm.DB, name, holder string, d time.Duration) (bool, error) {
	db = db.WithContext(ctx)
	now, err := dbNow(db)
	if err != nil {
		return false, err
	}
	res := db.Model(&leaseRow{}).Where("name = ? AND holder = ?", name, holder).Update("expires_at", now.Add(d))
	if res.Error != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// releaseLease gives the holder's lease back.
func releaseLease(ctx context.Context, db *gorm.DB, name, holder string) error {
	db = db.WithContext(ctx)
	now, err := dbNow(db)
	if err != nil {
		return err
	}
	err = db.Model(&leaseRow{}).Where("name = ? AND holder = ?", name, holder).
		Updates(map[string]any{"holder": "", "expires_at": now}).Error
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
