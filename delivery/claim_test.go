package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/lark"
)

func TestExpiredLeaseIsClaimedAgainAndTheStaleWorkerCannotFinishIt(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		key := e.deliveries(a.ID)[0].RobotKey
		ctx := context.Background()
		cfg := fastConfig()
		cfg.Lease = 200 * time.Millisecond
		stale, fresh := New(e.store, e.notifier, cfg), New(e.store, e.notifier, cfg)

		c1 := claimOne(t, stale, key)
		if c1 == nil || len(c1.batches) != 1 {
			t.Fatalf("first claim = %+v", c1)
		}
		if c := claimOne(t, fresh, key); c != nil && c.work() {
			t.Fatalf("a held lease was claimed again: %+v", c)
		}
		time.Sleep(cfg.Lease + 50*time.Millisecond)
		c2 := claimOne(t, fresh, key)
		if c2 == nil || len(c2.batches) != 1 || c2.token == c1.token {
			t.Fatalf("claim after the lease ran out = %+v", c2)
		}

		r1 := sentResult(c1, c1.batches[0])
		stale.recordResults(ctx, []*result{r1})
		if !errors.Is(r1.err, errLeaseLost) {
			t.Fatalf("stale worker's result: %v, want errLeaseLost", r1.err)
		}
		if d := e.deliveries(a.ID)[0]; d.Status != DeliveryPending {
			t.Fatalf("the stale worker finished someone else's claim: %s", d.Status)
		}
		r2 := sentResult(c2, c2.batches[0])
		fresh.recordResults(ctx, []*result{r2})
		if r2.err != nil {
			t.Fatalf("current holder's result: %v", r2.err)
		}
		if d := e.deliveries(a.ID)[0]; d.Status != DeliverySent {
			t.Fatalf("delivery %s after the holder recorded it, want SENT", d.Status)
		}
	})
}

func TestOutOfBudgetRobotDefersWithoutUsingAnAttempt(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		cfg := fastConfig()
		cfg.Budgets = map[senders.Platform][]senders.Window{senders.WeCom: {{Limit: 1, Span: time.Minute}}}
		d := New(e.store, e.notifier, cfg)
		first := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		key := e.deliveries(first.ID)[0].RobotKey
		if c := claimOne(t, d, key); c == nil || len(c.batches) != 1 {
			t.Fatalf("claim = %+v", c)
		}
		second := e.alert(AlertInput{Title: "second", Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		if c2 := claimOne(t, d, key); c2 != nil && len(c2.batches) > 0 {
			t.Fatalf("claimed beyond the budget: %+v", c2)
		}
		ds := e.deliveries(second.ID)
		if ds[0].NextAttemptAt == nil || time.Until(*ds[0].NextAttemptAt) < 50*time.Second || ds[0].Attempts != 0 {
			t.Fatalf("deferred delivery due %v with %d attempts; want about a minute later, no attempt", ds[0].NextAttemptAt, ds[0].Attempts)
		}
	})
}

func TestBudgetCountsInFlightSendsAndFreesWithTheOldest(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	w := []senders.Window{{Limit: 3, Span: time.Minute, Reserve: 1}}
	log := []sent{
		{at: now.Add(-50 * time.Second), settled: true},
		{at: now.Add(-30 * time.Second), settled: true},
	}
	b := computeBudget(w, log, now, 30*time.Second)
	if b.avail != 1 || b.spend != 1 || !b.low {
		t.Fatalf("budget %+v, want 1 left and in reserve", b)
	}
	// A send reserved 40 s ago and still in flight counts as happening now.
	b = computeBudget(w, append(log, sent{at: now.Add(-20 * time.Second)}), now, 30*time.Second)
	if b.avail != 0 || !b.freeAt.Equal(now.Add(10*time.Second)) {
		t.Fatalf("budget %+v, want none until the oldest leaves the window in 10s", b)
	}
	// An unsettled send older than a lease belongs to a dead worker; it counts from when it was reserved.
	b = computeBudget(w, append(log, sent{at: now.Add(-45 * time.Second)}), now, 30*time.Second)
	if b.avail != 0 || !b.freeAt.Equal(now.Add(10*time.Second)) {
		t.Fatalf("budget %+v", b)
	}
	larkWindows := lark.Descriptor.Windows
	var burst []sent
	for range 5 {
		burst = append(burst, sent{at: now.Add(-time.Second), settled: true})
	}
	if b := computeBudget(larkWindows, burst, now, 30*time.Second); b.avail != 0 || !b.freeAt.Equal(now.Add(250*time.Millisecond)) {
		t.Fatalf("lark budget %+v, want the per-second window to free in 250ms", b)
	}
}

func TestCombinedMessageShowsEachAlertsSeverityTitleAndContent(t *testing.T) {
	mk := func(id uint, sev senders.Severity, title, content string, phones ...string) *item {
		return &item{d: Delivery{ID: id, MentionPhones: phones},
			alert: &Alert{ID: id, Title: title, Content: content, Severity: sev, Format: senders.Text}}
	}
	m := combine([]*item{
		mk(1, senders.Info, "cpu", "cpu high", "1"),
		mk(2, senders.Critical, "disk", "disk full", "2", "1"),
		mk(3, senders.Warning, "mem", "mem low"),
	})
	if m.Severity != senders.Critical || !strings.HasPrefix(m.Title, "3 alerts: cpu; disk; mem") {
		t.Fatalf("combined %q at %s", m.Title, m.Severity)
	}
	for _, want := range []string{"[CRITICAL", "disk full", "[WARNING", "mem low", "[INFO", "cpu high"} {
		if !strings.Contains(m.Content, want) {
			t.Errorf("combined content lacks %q:\n%s", want, m.Content)
		}
	}
	if strings.Join(m.MentionPhones, ",") != "1,2" {
		t.Errorf("phones %v", m.MentionPhones)
	}
}

func TestASlowSendKeepsItsLeaseWhileItsWorkerLives(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// The send takes over twice the lease; a second replica polls all along and must not take it.
		e.fake.SetLatency(1500 * time.Millisecond)
		tok, url := e.robot(senders.WeCom)
		e.contact("alice", "", url)
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		cfg := fastConfig()
		cfg.Lease, cfg.PollInterval = 600*time.Millisecond, 50*time.Millisecond
		e.start(cfg)
		e.start(cfg)
		got, ds := e.waitFinal(a, 10*time.Second)
		if got.Status != AlertDelivered {
			t.Fatalf("alert is %s", got.Status)
		}
		if n := len(e.fake.Received(tok)); n != 1 {
			t.Fatalf("the robot got the alert %d times; a send slower than the lease was taken over", n)
		}
		if n := len(e.attempts(ds[0].ID)); n != 1 {
			t.Fatalf("%d attempts recorded, want 1", n)
		}
	})
}
