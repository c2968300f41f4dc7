package delivery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

const retentionDays = 90 * 24 * time.Hour

// seeded is a seeded alert with what hangs off it.
type seeded struct {
	alert      uint
	deliveries []uint
	attempts   []uint
}

// seedAlert writes an alert created at created, with one delivery per status given, each with
// attempts attempts, straight into the tables: a test of retention needs history of any age and
// shape, not a dispatcher's afternoon.
func seedAlert(t testing.TB, db *gorm.DB, created time.Time, status AlertStatus, attempts int, deliveries ...DeliveryStatus) seeded {
	t.Helper()
	return seedAlerts(t, db, 1, created, status, attempts, deliveries...)[0]
}

// seedAlerts is seedAlert n times, in multi-row inserts: GORM's per-row reflection would make
// seeding thousands of rows under the race detector take longer than the test.
func seedAlerts(t testing.TB, db *gorm.DB, n int, created time.Time, status AlertStatus, attempts int, deliveries ...DeliveryStatus) []seeded {
	t.Helper()
	created = created.UTC().Truncate(time.Microsecond)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{"old news", "c", senders.Info, senders.Text, status, false, false, false, false, created, created}
	}
	alerts := insertRows(t, db, "alerts", "title, content, severity, format, status, mention_all, mention_contacts, test, resolved, created_at, updated_at", rows)
	out := make([]seeded, n)
	rows = rows[:0]
	for i, id := range alerts {
		out[i].alert = id
		for j, st := range deliveries {
			key := fmt.Sprintf("%064d", j%7)
			var next *time.Time
			if st == DeliveryPending || st == DeliveryHeld {
				at := created.Add(time.Hour)
				next = &at
			}
			rows = append(rows, []any{id, senders.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=" + key, key, st, next, 0, created, created})
		}
	}
	ds := insertRows(t, db, "deliveries", "alert_id, platform, url, url_hash, status, next_attempt_at, attempts, created_at, updated_at", rows)
	rows = rows[:0]
	owner := make([]*seeded, 0, len(ds))
	for i := range out {
		for range deliveries {
			owner = append(owner, &out[i])
		}
	}
	var tried []*seeded
	for i, id := range ds {
		owner[i].deliveries = append(owner[i].deliveries, id)
		for range attempts {
			rows = append(rows, []any{id, created, 0, senders.Sent, 1})
			tried = append(tried, owner[i])
		}
	}
	for i, id := range insertRows(t, db, "delivery_attempts", "delivery_id, at, duration_ms, outcome, coalesced", rows) {
		tried[i].attempts = append(tried[i].attempts, id)
	}
	return out
}

// insertRows inserts rows into table and returns their ids, in order. Nothing else may write the
// table meanwhile.
func insertRows(t testing.TB, db *gorm.DB, table, columns string, rows [][]any) []uint {
	t.Helper()
	if len(rows) == 0 {
		return nil
	}
	var before uint
	if err := db.Table(table).Select("COALESCE(MAX(id), 0)").Scan(&before).Error; err != nil {
		t.Fatal(err)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
	for chunk := range slices.Chunk(rows, 300) {
		var args []any
		for _, r := range chunk {
			args = append(args, r...)
		}
		values := strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", ")
		if err := db.Exec("INSERT INTO "+table+" ("+columns+") VALUES "+values, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint
	if err := db.Table(table).Where("id > ?", before).Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(rows) {
		t.Fatalf("%s: inserted %d rows, found %d", table, len(rows), len(ids))
	}
	return ids
}

func seedAudit(t testing.TB, db *gorm.DB, at time.Time, n int) {
	t.Helper()
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{at.UTC().Truncate(time.Microsecond), "ops", models.RoleAdmin, "createContact", `["1"]`}
	}
	insertRows(t, db, "audit_entries", "at, token_name, token_role, operation, object_ids", rows)
}

// tableIDs reads a table's ids, sorted.
func tableIDs(t testing.TB, db *gorm.DB, table string) []uint {
	t.Helper()
	var out []uint
	if err := db.Table(table).Order("id").Pluck("id", &out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func rowCount(t testing.TB, db *gorm.DB, table string) int {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// alertsWithout is all minus the alerts gone, sorted.
func alertsWithout(all []uint, gone ...seeded) []uint {
	drop := map[uint]bool{}
	for _, h := range gone {
		drop[h.alert] = true
	}
	var out []uint
	for _, id := range all {
		if !drop[id] {
			out = append(out, id)
		}
	}
	return out
}

func childIDs(hs []seeded, pick func(seeded) []uint) []uint {
	var out []uint
	for _, h := range hs {
		out = append(out, pick(h)...)
	}
	slices.Sort(out)
	return out
}

func dbNowOf(t testing.TB, db *gorm.DB) time.Time {
	t.Helper()
	now, err := models.DBNow(db)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// shiftClock moves each pool's database clock by d until the test ends: every replica sees the
// same time.
func shiftClock(t testing.TB, d time.Duration, dbs ...*gorm.DB) {
	for _, db := range dbs {
		models.ShiftClock(db, d)
		t.Cleanup(func() { models.ShiftClock(db, 0) })
	}
}

// countedMetrics adds up what retention reports.
type countedMetrics struct {
	mu   sync.Mutex
	rows map[string]int
}

func (m *countedMetrics) RetentionDeleted(kind string, rows int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[string]int{}
	}
	m.rows[kind] += rows
}

func testRetention(store *models.Store, batch int, m RetentionMetrics) *Retention {
	return NewRetention(store, RetentionConfig{Keep: retentionDays, BatchSize: batch, Pause: time.Millisecond, Metrics: m})
}

// An old alert goes with its deliveries and their attempts once none of them is in flight; an
// alert that is young, still PENDING, or has a PENDING or HELD delivery stays with all its rows,
// and so do the robots and their send logs. Table by table, exactly the old finished rows go.
func TestRetentionDeletesOldFinishedHistoryAndNothingElse(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		db := e.db.Gorm
		// A real alert, sent, with its attempt, robot row and send log; and a silenced one.
		_, url := e.robot(senders.DingTalk, "SchedulerX")
		contact := e.contact("ops", "", url)
		sent := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactIDs: []string{contact}}})
		_, stop := e.start(fastConfig())
		if got, _ := e.waitFinal(sent, 10*time.Second); got.Status != AlertDelivered {
			t.Fatalf("the real alert ended %s", got.Status)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateSilence(ctx, models.SilenceInput{Matchers: []models.Matcher{{Label: "job", Op: models.MatchEqual, Value: "backup"}},
			EndsAt: dbNowOf(t, db).Add(time.Hour), Comment: "maintenance"}); err != nil {
			t.Fatal(err)
		}
		silenced := e.alert(AlertInput{Labels: Labels{{Name: "job", Value: "backup"}}, Recipients: models.RecipientQuery{ContactIDs: []string{contact}}})
		if silenced.Status != AlertSilenced {
			t.Fatalf("the silenced alert is %s", silenced.Status)
		}
		realSent := seeded{alert: sent.ID}
		for _, d := range e.deliveries(sent.ID) {
			realSent.deliveries = append(realSent.deliveries, d.ID)
			for _, a := range e.attempts(d.ID) {
				realSent.attempts = append(realSent.attempts, a.ID)
			}
		}
		if len(realSent.deliveries) != 1 || len(realSent.attempts) != 1 {
			t.Fatalf("the real alert has %d deliveries and %d attempts", len(realSent.deliveries), len(realSent.attempts))
		}
		auditBefore := rowCount(t, db, "audit_entries") // the contact and the silence: old once the clock moves

		// Ninety-one days later, as every replica reads the database clock.
		shiftClock(t, 91*24*time.Hour, db)
		now := dbNowOf(t, db)
		old, young, edge := now.Add(-100*24*time.Hour), now.Add(-24*time.Hour), now.Add(-retentionDays)
		gone := []seeded{realSent, {alert: silenced.ID},
			seedAlert(t, db, old, AlertDelivered, 2, DeliverySent, DeliverySent, DeliverySent),
			seedAlert(t, db, old, AlertFailed, 3, DeliveryFailed),
			seedAlert(t, db, old, AlertPartiallyDelivered, 1, DeliverySent, DeliveryFailed, DeliveryDropped),
			seedAlert(t, db, old, AlertDropped, 1, DeliveryDropped, DeliveryDropped),
			seedAlert(t, db, old, AlertSilenced, 0),
			seedAlert(t, db, edge.Add(-time.Minute), AlertDelivered, 1, DeliverySent),
			// More deliveries than one transaction may delete: it goes over several.
			seedAlert(t, db, old, AlertDelivered, 1, slices.Repeat([]DeliveryStatus{DeliverySent}, 80)...),
		}
		kept := []seeded{
			seedAlert(t, db, young, AlertDelivered, 1, DeliverySent, DeliverySent),
			seedAlert(t, db, young, AlertSilenced, 0),
			seedAlert(t, db, edge.Add(time.Minute), AlertFailed, 2, DeliveryFailed),
			seedAlert(t, db, old, AlertPending, 1, DeliverySent, DeliveryPending),
			seedAlert(t, db, old, AlertPending, 0, DeliveryHeld),
			seedAlert(t, db, old, AlertPending, 1, DeliveryDropped, DeliveryHeld, DeliverySent),
			// Not yet settled by the sweep: still in flight as far as retention is concerned.
			seedAlert(t, db, old, AlertPending, 1, DeliverySent),
		}
		for range 10 { // between the old ones, so that batches step over them
			gone = append(gone, seedAlert(t, db, old, AlertDelivered, 1, DeliverySent))
			kept = append(kept, seedAlert(t, db, old, AlertPending, 0, DeliveryPending))
		}
		seedAudit(t, db, old, 25)
		seedAudit(t, db, edge.Add(-time.Minute), 1)
		seedAudit(t, db, edge.Add(time.Minute), 2)
		seedAudit(t, db, young, 3)
		robots, sends := rowCount(t, db, "robots"), rowCount(t, db, "robot_sends")
		if robots == 0 || sends == 0 {
			t.Fatalf("the real alert left %d robots and %d sends", robots, sends)
		}
		allAlerts, allDeliveries, allAttempts := tableIDs(t, db, "alerts"), tableIDs(t, db, "deliveries"), tableIDs(t, db, "delivery_attempts")

		m := &countedMetrics{}
		res, err := testRetention(e.store, 7, m).pass(ctx)
		if err != nil || !res.ran {
			t.Fatalf("pass: %+v, %v", res, err)
		}
		goneDeliveries, goneAttempts := childIDs(gone, func(h seeded) []uint { return h.deliveries }), childIDs(gone, func(h seeded) []uint { return h.attempts })
		if got, want := tableIDs(t, db, "alerts"), alertsWithout(allAlerts, gone...); !slices.Equal(got, want) {
			t.Fatalf("alerts left %v, want %v", got, want)
		}
		wantDeliveries := slices.DeleteFunc(slices.Clone(allDeliveries), func(id uint) bool { return slices.Contains(goneDeliveries, id) })
		if got := tableIDs(t, db, "deliveries"); !slices.Equal(got, wantDeliveries) || !slices.Equal(wantDeliveries, childIDs(kept, func(h seeded) []uint { return h.deliveries })) {
			t.Fatalf("deliveries left %v, want %v", got, wantDeliveries)
		}
		wantAttempts := slices.DeleteFunc(slices.Clone(allAttempts), func(id uint) bool { return slices.Contains(goneAttempts, id) })
		if got := tableIDs(t, db, "delivery_attempts"); !slices.Equal(got, wantAttempts) || !slices.Equal(wantAttempts, childIDs(kept, func(h seeded) []uint { return h.attempts })) {
			t.Fatalf("attempts left %v, want %v", got, wantAttempts)
		}
		if got := rowCount(t, db, "audit_entries"); got != 5 {
			t.Fatalf("%d audit entries left, want the 5 younger than the retention", got)
		}
		if r, s := rowCount(t, db, "robots"), rowCount(t, db, "robot_sends"); r != robots || s != sends {
			t.Fatalf("robots %d → %d, send log %d → %d: neither is retention's", robots, r, sends, s)
		}
		want := retained{ran: true, alerts: len(gone), deliveries: len(goneDeliveries), attempts: len(goneAttempts), audit: auditBefore + 26}
		res.batches = 0
		if res != want {
			t.Fatalf("the pass reports %+v, want %+v", res, want)
		}
		if m.rows["alerts"] != want.alerts || m.rows["deliveries"] != want.deliveries || m.rows["attempts"] != want.attempts || m.rows["audit"] != want.audit {
			t.Fatalf("metrics %v, want %+v", m.rows, want)
		}
		if again, err := testRetention(e.store, 7, nil).pass(ctx); err != nil || again != (retained{ran: true}) {
			t.Fatalf("a second pass: %+v, %v", again, err)
		}
	})
}

// statementLog counts the DELETE statements of each table and the most rows one of them removed.
type statementLog struct {
	mu      sync.Mutex
	deletes map[string]int
	most    map[string]int64
}

func logDeletes(t *testing.T, db *gorm.DB) *statementLog {
	t.Helper()
	l := &statementLog{deletes: map[string]int{}, most: map[string]int64{}}
	err := db.Callback().Delete().After("gorm:delete").Register("test:retention-deletes", func(tx *gorm.DB) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.deletes[tx.Statement.Table]++
		l.most[tx.Statement.Table] = max(l.most[tx.Statement.Table], tx.Statement.RowsAffected)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Callback().Delete().Remove("test:retention-deletes") })
	return l
}

// 1,000 old alerts with a batch of 100 take ten transactions or more, none deleting more than a
// batch of alerts, five times as many deliveries, or a batch of audit entries, so no statement
// holds its locks for long.
func TestRetentionDeletesInSmallBatches(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		db := e.db.Gorm
		old := dbNowOf(t, db).Add(-100 * 24 * time.Hour)
		seedAlerts(t, db, 1000, old, AlertDelivered, 1, DeliverySent)
		seedAlert(t, db, old, AlertDelivered, 0, slices.Repeat([]DeliveryStatus{DeliverySent}, 1200)...)
		seedAudit(t, db, old, 450)
		log := logDeletes(t, db)
		res, err := testRetention(e.store, 100, nil).pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.alerts != 1001 || res.deliveries != 2200 || res.attempts != 1000 || res.audit != 450 {
			t.Fatalf("the pass deleted %+v", res)
		}
		if n := rowCount(t, db, "alerts") + rowCount(t, db, "deliveries") + rowCount(t, db, "delivery_attempts") + rowCount(t, db, "audit_entries"); n != 0 {
			t.Fatalf("%d rows left", n)
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		if log.deletes["alerts"] < 10 || log.most["alerts"] > 100 {
			t.Fatalf("alerts went in %d statements of up to %d rows; want 10 or more of at most 100", log.deletes["alerts"], log.most["alerts"])
		}
		if log.most["deliveries"] > 500 || log.most["delivery_attempts"] > 500 {
			t.Fatalf("a statement deleted %d deliveries or %d attempts, more than a batch may", log.most["deliveries"], log.most["delivery_attempts"])
		}
		if log.deletes["audit_entries"] != 5 || log.most["audit_entries"] > 100 {
			t.Fatalf("the audit log went in %d statements of up to %d rows; want 5 of at most 100", log.deletes["audit_entries"], log.most["audit_entries"])
		}
		// The alert of 1,200 deliveries alone took three transactions of deliveries before its own.
		if res.batches < 10+3+5 {
			t.Fatalf("%d transactions", res.batches)
		}
	})
}

// Two replicas on their own connection pools run passes at once, over and over: the lease lets
// one delete at a time, and between them everything old is deleted exactly once, without an error.
func TestRetentionLeaseLetsOneReplicaDeleteAtATime(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		db := e.db.Gorm
		old := dbNowOf(t, db).Add(-100 * 24 * time.Hour)
		const alerts, audit = 1000, 300
		seedAlerts(t, db, alerts, old, AlertDelivered, 1, DeliverySent)
		seedAudit(t, db, old, audit)
		young := seedAlert(t, db, dbNowOf(t, db), AlertDelivered, 1, DeliverySent)
		replicas := []*Retention{testRetention(e.store, 50, nil), testRetention(e.storeOn(modelstest.OtherPool(t, e.db)), 50, nil)}
		var holding, overlaps, refused atomic.Int32
		var first sync.Once
		for _, r := range replicas {
			r.onLease = func(held bool) {
				if !held {
					holding.Add(-1)
					return
				}
				if holding.Add(1) > 1 {
					overlaps.Add(1)
				}
				// The first pass to take the lease keeps it until the other replica has been
				// refused once: the replicas compete by construction, not by the scheduler's luck.
				first.Do(func() {
					for wait := time.Now().Add(10 * time.Second); refused.Load() == 0 && time.Now().Before(wait); {
						time.Sleep(time.Millisecond)
					}
				})
			}
		}
		var total struct {
			sync.Mutex
			retained
		}
		done := func() bool {
			total.Lock()
			defer total.Unlock()
			return total.alerts == alerts && total.audit == audit
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		deadline := time.Now().Add(60 * time.Second)
		for _, r := range replicas {
			wg.Go(func() {
				for !done() && time.Now().Before(deadline) {
					res, err := r.pass(context.Background())
					if err != nil {
						errs <- err
						return
					}
					if !res.ran {
						refused.Add(1)
						time.Sleep(time.Millisecond)
						continue
					}
					total.Lock()
					total.alerts += res.alerts
					total.deliveries += res.deliveries
					total.attempts += res.attempts
					total.audit += res.audit
					total.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if total.alerts != alerts || total.deliveries != alerts || total.attempts != alerts || total.audit != audit {
			t.Fatalf("the replicas deleted %+v between them, want %d alerts, deliveries and attempts and %d audit entries", total.retained, alerts, audit)
		}
		if overlaps.Load() != 0 {
			t.Fatalf("two passes held the lease at once %d times", overlaps.Load())
		}
		if refused.Load() == 0 {
			t.Fatal("no pass was ever refused the lease: the replicas never competed")
		}
		if got := tableIDs(t, db, "alerts"); !slices.Equal(got, []uint{young.alert}) || rowCount(t, db, "deliveries") != 1 || rowCount(t, db, "delivery_attempts") != 1 {
			t.Fatalf("left alerts %v", got)
		}
	})
}

// The lease of a replica that died mid-pass runs out on the database clock and is taken over; the
// dead replica, were it to wake, finds it lost and stops.
func TestRetentionLeaseOfADeadReplicaRunsOut(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		db := e.db.Gorm
		other := modelstest.OtherPool(t, e.db)
		seedAlert(t, db, dbNowOf(t, db).Add(-100*24*time.Hour), AlertDelivered, 1, DeliverySent)
		if ok, err := takeLease(ctx, db, retentionLease, "dead", time.Minute); err != nil || !ok {
			t.Fatalf("take the lease: %v, %v", ok, err)
		}
		r := testRetention(e.storeOn(other), 10, nil)
		if res, err := r.pass(ctx); err != nil || res.ran || rowCount(t, db, "alerts") != 1 {
			t.Fatalf("a pass while another holds the lease: %+v, %v", res, err)
		}
		shiftClock(t, 61*time.Second, db, other)
		if res, err := r.pass(ctx); err != nil || !res.ran || res.alerts != 1 {
			t.Fatalf("a pass after the lease ran out: %+v, %v", res, err)
		}
		if ok, err := renewLease(ctx, db, retentionLease, "dead", time.Minute); err != nil || ok {
			t.Fatalf("the dead holder renewed a lease taken over: %v, %v", ok, err)
		}
		// Given back at the pass's end: the next pass need not wait for it to run out.
		if ok, err := takeLease(ctx, db, retentionLease, "next", time.Minute); err != nil || !ok {
			t.Fatalf("take the lease after a pass: %v, %v", ok, err)
		}
	})
}

// Retention switched off deletes nothing, however old, and Run returns at once.
func TestRetentionOffDeletesNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		db := e.db.Gorm
		old := dbNowOf(t, db).Add(-10 * 365 * 24 * time.Hour)
		seedAlert(t, db, old, AlertDelivered, 1, DeliverySent)
		seedAudit(t, db, old, 1)
		r := NewRetention(e.store, RetentionConfig{FirstPass: time.Millisecond, Interval: time.Millisecond})
		finished := make(chan struct{})
		go func() { defer close(finished); r.Run(context.Background()) }()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Fatal("Run of a retention switched off did not return")
		}
		if res, err := r.pass(context.Background()); err != nil || res != (retained{}) {
			t.Fatalf("pass: %+v, %v", res, err)
		}
		for _, table := range []string{"alerts", "deliveries", "delivery_attempts", "audit_entries"} {
			if n := rowCount(t, db, table); n != 1 {
				t.Fatalf("%s: %d rows, want 1", table, n)
			}
		}
	})
}

// Run makes its first pass soon after it starts, then one every interval, and stops with its
// context.
func TestRetentionRunsSoonAfterStartAndStopsWithItsContext(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		db := e.db.Gorm
		r := NewRetention(e.store, RetentionConfig{Keep: retentionDays, FirstPass: 10 * time.Millisecond, Interval: 20 * time.Millisecond, Pause: time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		finished := make(chan struct{})
		go func() { defer close(finished); r.Run(ctx) }()
		// Each alert is written whole in one transaction: a pass running between its rows would
		// delete an alert that has no deliveries yet, and the deliveries would then name nothing.
		seedWhole := func(status AlertStatus, delivery DeliveryStatus) {
			at := dbNowOf(t, db).Add(-100 * 24 * time.Hour)
			if err := db.Transaction(func(tx *gorm.DB) error { seedAlert(t, tx, at, status, 1, delivery); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		seedWhole(AlertDelivered, DeliverySent)
		e.waitFor("the first pass", 5*time.Second, func() bool { return rowCount(t, db, "alerts") == 0 })
		seedWhole(AlertFailed, DeliveryFailed)
		e.waitFor("a later pass", 5*time.Second, func() bool { return rowCount(t, db, "alerts") == 0 })
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})
}
