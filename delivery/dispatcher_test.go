package delivery

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

func TestEachDistinctURLGetsOneMessage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		shared, sharedURL := e.robot(senders.DingTalk)
		own, ownURL := e.robot(senders.WeCom)
		larkTok, larkURL := e.robot(senders.Lark)
		alice := e.contact("alice", "13800000001", sharedURL, ownURL)
		e.contact("bob", "13800000002", sharedURL)
		carol := e.contact("carol", "", sharedURL, larkURL)
		g, err := e.store.CreateGroup(context.Background(), models.GroupInput{Name: ptr("ops"), ContactIDs: []string{alice, carol}})
		if err != nil {
			t.Fatal(err)
		}
		_, stop := e.start(fastConfig())
		a := e.alert(AlertInput{
			Content:         "fan-out",
			MentionContacts: true, Recipients: models.RecipientQuery{ContactNames: []string{"bob"}, GroupIDs: []string{models.FormatID(g.ID)}, ContactIDs: []string{alice}}})
		got, ds := e.waitFinal(a, 10*time.Second)
		if got.Status != AlertDelivered || len(ds) != 3 {
			t.Fatalf("alert %s with %d deliveries, want DELIVERED with 3", got.Status, len(ds))
		}
		for tok, want := range map[string]int{shared: 1, own: 1, larkTok: 1} {
			if n := len(e.fake.Received(tok)); n != want {
				t.Errorf("robot %s got %d messages, want %d", tok, n, want)
			}
		}
		// The shared robot's message mentions the phones of the contacts it was for, and only those.
		if m := e.fake.Received(shared)[0]; strings.Join(m.Mobiles, ",") != "13800000001,13800000002" {
			t.Errorf("shared robot mentioned %v", m.Mobiles)
		}
		if err := stop(); err != nil {
			t.Fatalf("Run returned %v", err)
		}
	})
}

func TestRetryableFailuresAreRetriedUntilSent(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.DingTalk)
		e.contact("alice", "", u)
		e.fake.FailNext(tok, 3, fakeplatform.Fault5xx)
		e.start(fastConfig())
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		got, ds := e.waitFinal(a, 10*time.Second)
		if got.Status != AlertDelivered || ds[0].Status != DeliverySent || ds[0].SentAt == nil || ds[0].NextAttemptAt != nil {
			t.Fatalf("alert %s, delivery %+v; want DELIVERED/SENT", got.Status, ds[0])
		}
		at := e.attempts(ds[0].ID)
		if len(at) != 4 || ds[0].Attempts != 4 {
			t.Fatalf("%d attempts recorded (counter %d), want 4", len(at), ds[0].Attempts)
		}
		for i, x := range at[:3] {
			if x.Outcome != "RETRYABLE" || x.HTTPStatus == nil || *x.HTTPStatus != 503 || x.Error == nil {
				t.Errorf("attempt %d = %+v, want a recorded 503", i, x)
			}
			if !x.At.Before(at[i+1].At) {
				t.Errorf("attempts out of order: %s then %s", x.At, at[i+1].At)
			}
		}
		if at[3].Outcome != "SENT" || at[3].Error != nil {
			t.Errorf("last attempt = %+v, want SENT", at[3])
		}
	})
}

func TestPermanentErrorFailsAtOnceWithThePlatformsCode(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// A keyword the message does not carry: DingTalk answers 310000, which no retry can fix.
		_, u := e.robot(senders.DingTalk, "NotOurKeyword")
		e.contact("alice", "", u)
		e.start(fastConfig())
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		got, ds := e.waitFinal(a, 10*time.Second)
		if got.Status != AlertFailed || ds[0].Status != DeliveryFailed {
			t.Fatalf("alert %s, delivery %s; want FAILED", got.Status, ds[0].Status)
		}
		if ds[0].LastError == nil || !strings.Contains(*ds[0].LastError, "310000") {
			t.Errorf("lastError = %v, want it to name code 310000", ds[0].LastError)
		}
		at := e.attempts(ds[0].ID)
		if len(at) != 1 || at[0].PlatformCode == nil || *at[0].PlatformCode != 310000 {
			t.Fatalf("attempts = %+v, want one with platform code 310000", at)
		}
	})
}

func TestSomeRobotsFailingMakesAlertPartiallyDelivered(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, good := e.robot(senders.WeCom)
		_, bad := e.robot(senders.DingTalk, "NotOurKeyword")
		e.contact("alice", "", good, bad)
		e.start(fastConfig())
		got, _ := e.waitFinal(e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}}), 10*time.Second)
		if got.Status != AlertPartiallyDelivered {
			t.Fatalf("status %s, want PARTIALLY_DELIVERED", got.Status)
		}
	})
}

func TestBurstToOneRobotIsCoalescedWithinItsBudget(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.DingTalk)
		e.contact("alice", "", u)
		cfg := fastConfig()
		cfg.Linger = 400 * time.Millisecond
		e.start(cfg)
		var alerts []*Alert
		for i := range 30 {
			sev := senders.Info
			if i == 17 {
				sev = senders.Critical
			}
			alerts = append(alerts, e.alert(AlertInput{
				Title: fmt.Sprintf("burst %02d", i), Content: fmt.Sprintf("content-%02d;", i), Severity: sev, Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}}))
		}
		for _, a := range alerts {
			if got, _ := e.waitFinal(a, 20*time.Second); got.Status != AlertDelivered {
				t.Fatalf("alert %d is %s", a.ID, got.Status)
			}
		}
		if rej := e.fake.Rejected(tok); len(rej) != 0 {
			t.Fatalf("robot rejected requests: %v", rej)
		}
		msgs := e.fake.Received(tok)
		if len(msgs) > 20 {
			t.Fatalf("%d messages in well under a minute; DingTalk allows 20", len(msgs))
		}
		all := ""
		combined := 0
		for _, m := range msgs {
			all += m.Text
			if strings.Contains(m.Text, " alerts: ") {
				combined++
			}
		}
		for i := range 30 {
			if n := strings.Count(all, fmt.Sprintf("content-%02d;", i)); n != 1 {
				t.Errorf("content of alert %d arrived %d times, want once", i, n)
			}
		}
		if combined == 0 {
			t.Errorf("no combined message among %d", len(msgs))
		}
		t.Logf("30 alerts in %d messages, %d of them combined", len(msgs), combined)
	})
}

func TestTwoReplicasNeverSendTwice(t *testing.T) {
	e, other := replicaEnv(t)
	var members []string
	tokens := map[string]bool{}
	for i := range 12 {
		tok, u := e.robot([]senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark}[i%3])
		tokens[tok] = true
		members = append(members, e.contact(fmt.Sprintf("c%02d", i), "", u))
	}
	if _, err := e.store.CreateGroup(context.Background(), models.GroupInput{Name: ptr("all"), ContactIDs: members}); err != nil {
		t.Fatal(err)
	}
	e.fake.SetLatency(5 * time.Millisecond)
	var alerts []*Alert
	for i := range 10 {
		alerts = append(alerts, e.alert(AlertInput{Content: fmt.Sprintf("replica-%02d;", i), Recipients: models.RecipientQuery{GroupNames: []string{"all"}}}))
	}
	cfg := fastConfig()
	cfg.Linger = 300 * time.Millisecond
	e.startOn(e.store, cfg)
	e.startOn(e.storeOn(other), cfg)
	for _, a := range alerts {
		if got, _ := e.waitFinal(a, 30*time.Second); got.Status != AlertDelivered {
			t.Fatalf("alert %d is %s", a.ID, got.Status)
		}
	}
	for tok := range tokens {
		all := ""
		for _, m := range e.fake.Received(tok) {
			all += m.Text
		}
		for i := range 10 {
			if n := strings.Count(all, fmt.Sprintf("replica-%02d;", i)); n != 1 {
				t.Errorf("robot %s got alert %d %d times, want once", tok, i, n)
			}
		}
		if rej := e.fake.Rejected(tok); len(rej) != 0 {
			t.Errorf("robot %s rejected %v", tok, rej)
		}
	}
}

func TestShutdownFinishesInFlightSends(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		e.fake.SetLatency(400 * time.Millisecond)
		_, stop := e.start(fastConfig())
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		e.waitFor("the request to be in flight", 5*time.Second, func() bool { return e.fake.Requests() > 0 })
		if err := stop(); err != nil {
			t.Fatalf("Run returned %v", err)
		}
		ds := e.deliveries(a.ID)
		if ds[0].Status != DeliverySent {
			t.Fatalf("in-flight delivery is %s after shutdown, want SENT", ds[0].Status)
		}
	})
}

func TestShutdownReleasesSendsStillRunningAfterGrace(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		e.fake.FailNext(tok, 1, fakeplatform.FaultHang)
		cfg := fastConfig()
		cfg.Grace = 100 * time.Millisecond
		_, stop := e.start(cfg)
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		e.waitFor("the request to be in flight", 5*time.Second, func() bool { return e.fake.Requests() > 0 })
		began := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("Run returned %v", err)
		}
		if took := time.Since(began); took > 1500*time.Millisecond {
			t.Errorf("shutdown took %s with a 100ms grace", took)
		}
		d := e.deliveries(a.ID)[0]
		if d.Status != DeliveryPending || d.NextAttemptAt == nil || time.Until(*d.NextAttemptAt) > 0 {
			t.Fatalf("released delivery = %s due %v, want PENDING and due now", d.Status, d.NextAttemptAt)
		}
		if n := e.countWhere(e.db.Gorm, &Delivery{}, "id = ? AND claim_token IS NOT NULL", d.ID); n != 0 {
			t.Error("released delivery still holds its claim token")
		}
		// Another dispatcher (a replica, or this one restarted) picks it up at once.
		e.start(fastConfig())
		if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
			t.Fatalf("alert %s after restart", got.Status)
		}
	})
}

func TestFailingRobotIsPausedThenProbed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		e.fake.FailNext(tok, 5, fakeplatform.Fault5xx)
		cfg := fastConfig()
		cfg.BreakerThreshold = 3
		cfg.BreakerCooldown = 300 * time.Millisecond
		e.start(cfg)
		began := time.Now()
		first := e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		e.waitFor("the breaker to open", 5*time.Second, func() bool {
			return e.countWhere(e.db.Gorm, &RobotState{}, "failures >= 3 AND paused_until IS NOT NULL") == 1
		})
		// While the robot is paused, a new alert waits instead of spending attempts on it.
		second := e.alert(AlertInput{Title: "second", Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		for _, a := range []*Alert{first, second} {
			if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
				t.Fatalf("alert %s", got.Status)
			}
		}
		// 3 failures open the breaker; probes 4 and 5 fail after each cool-down; probe 6 closes it.
		if took := time.Since(began); took < 3*cfg.BreakerCooldown {
			t.Errorf("delivered after %s; the breaker should have paused the robot 3 times for %s", took, cfg.BreakerCooldown)
		}
		if n := len(e.attempts(e.deliveries(second.ID)[0].ID)); n > 3 {
			t.Errorf("the alert queued behind the open breaker used %d attempts", n)
		}
		// The robot's bookkeeping is settled just after the result is recorded.
		e.waitFor("a successful probe to close the breaker", 5*time.Second, func() bool {
			return e.countWhere(e.db.Gorm, &RobotState{}, "failures = 0 AND paused_until IS NULL") == 1
		})
	})
}

func TestRetriesStopAtMaxAge(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.WeCom)
		e.contact("alice", "", u)
		e.fake.FailNext(tok, 1000, fakeplatform.Fault5xx)
		cfg := fastConfig()
		cfg.MaxAge = 400 * time.Millisecond
		cfg.BreakerThreshold = 1000
		e.start(cfg)
		got, ds := e.waitFinal(e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}}), 10*time.Second)
		// Either the next retry would fall after the max age ("gave up after"), or it was due just
		// before and claimed just after it (expired at claim): both name the limit.
		if got.Status != AlertFailed || ds[0].LastError == nil || !strings.Contains(*ds[0].LastError, "within 400ms of the alert") {
			t.Fatalf("alert %s, lastError %q; want FAILED for the max age", got.Status, deref(ds[0].LastError))
		}
		if n := len(e.attempts(ds[0].ID)); n < 2 {
			t.Errorf("%d attempts before giving up, want retries", n)
		}
	})
}

func TestAttemptLogLinesRedactTheURL(t *testing.T) {
	db := modelstest.SQLite(t)
	e := newEnv(t, db)
	_, u := e.robot(senders.DingTalk)
	e.contact("alice", "", u)
	var buf syncBuffer
	cfg := fastConfig()
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	_, stop := e.start(cfg)
	e.waitFinal(e.alert(AlertInput{Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}}), 10*time.Second)
	_ = stop()
	out := buf.String()
	if !strings.Contains(out, `"msg":"delivery attempt"`) || !strings.Contains(out, `"outcome":"SENT"`) {
		t.Fatalf("no attempt line in %s", out)
	}
	tok := u[strings.Index(u, "access_token=")+len("access_token="):]
	if strings.Contains(out, tok) {
		t.Fatalf("log contains the robot's token: %s", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
