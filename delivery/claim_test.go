package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
)

func TestExpiredLeaseIsClaimedAgainAndTheStaleWorkerCannotFinishIt(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		a := e.alert(models.AlertInput{ContactNames: []string{"alice"}})
		hash := e.deliveries(a.ID)[0].URLHash
		ctx := context.Background()
		cfg := fastConfig()
		cfg.Lease = 200 * time.Millisecond
		stale, fresh := New(e.store, e.notifier, cfg), New(e.store, e.notifier, cfg)

		c1, err := stale.claimRobot(ctx, hash)
		if err != nil || c1 == nil || len(c1.batches) != 1 {
			t.Fatalf("first claim = %+v, %v", c1, err)
		}
		if c, err := fresh.claimRobot(ctx, hash); err != nil || c != nil && len(c.batches) > 0 {
			t.Fatalf("a held lease was claimed again: %+v, %v", c, err)
		}
		time.Sleep(cfg.Lease + 50*time.Millisecond)
		c2, err := fresh.claimRobot(ctx, hash)
		if err != nil || c2 == nil || len(c2.batches) != 1 || c2.token == c1.token {
			t.Fatalf("claim after the lease ran out = %+v, %v", c2, err)
		}

		_, err = stale.record(ctx, c1.token, c1.batches[0].items, senders.Sent.String(), senders.Result{Outcome: senders.Sent})
		if !errors.Is(err, errLeaseLost) {
			t.Fatalf("stale worker's result: %v, want errLeaseLost", err)
		}
		if d := e.deliveries(a.ID)[0]; d.Status != models.DeliveryPending {
			t.Fatalf("the stale worker finished someone else's claim: %s", d.Status)
		}
		if _, err := fresh.record(ctx, c2.token, c2.batches[0].items, senders.Sent.String(), senders.Result{Outcome: senders.Sent}); err != nil {
			t.Fatalf("current holder's result: %v", err)
		}
		if d := e.deliveries(a.ID)[0]; d.Status != models.DeliverySent {
			t.Fatalf("delivery %s after the holder recorded it, want SENT", d.Status)
		}
	})
}

func TestOutOfBudgetRobotDefersWithoutUsingAnAttempt(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		cfg := fastConfig()
		cfg.Budgets = map[senders.Platform][]Window{senders.WeCom: {{Limit: 1, Span: time.Minute}}}
		d := New(e.store, e.notifier, cfg)
		ctx := context.Background()
		first := e.alert(models.AlertInput{ContactNames: []string{"alice"}})
		hash := e.deliveries(first.ID)[0].URLHash
		c, err := d.claimRobot(ctx, hash)
		if err != nil || c == nil || len(c.batches) != 1 {
			t.Fatalf("claim = %+v, %v", c, err)
		}
		second := e.alert(models.AlertInput{Title: "second", ContactNames: []string{"alice"}})
		c2, err := d.claimRobot(ctx, hash)
		if err != nil || c2 != nil && len(c2.batches) > 0 {
			t.Fatalf("claimed beyond the budget: %+v, %v", c2, err)
		}
		ds := e.deliveries(second.ID)
		if ds[0].NextAttemptAt == nil || time.Until(*ds[0].NextAttemptAt) < 50*time.Second || ds[0].Attempts != 0 {
			t.Fatalf("deferred delivery due %v with %d attempts; want about a minute later, no attempt", ds[0].NextAttemptAt, ds[0].Attempts)
		}
	})
}

func TestBudgetCountsInFlightSendsAndFreesWithTheOldest(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	w := []Window{{Limit: 3, Span: time.Minute, Reserve: 1}}
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
	lark := DefaultBudgets[senders.Lark]
	var burst []sent
	for range 5 {
		burst = append(burst, sent{at: now.Add(-time.Second), settled: true})
	}
	if b := computeBudget(lark, burst, now, 30*time.Second); b.avail != 0 || !b.freeAt.Equal(now.Add(250*time.Millisecond)) {
		t.Fatalf("lark budget %+v, want the per-second window to free in 250ms", b)
	}
}

func TestCombinedMessageShowsEachAlertsSeverityTitleAndContent(t *testing.T) {
	mk := func(id uint, sev senders.Severity, title, content string, phones ...string) *item {
		return &item{d: models.Delivery{ID: id, MentionPhones: phones},
			alert: &models.Alert{ID: id, Title: title, Content: content, Severity: sev, Format: senders.Text}}
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
