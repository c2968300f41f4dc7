package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
	"gorm.io/gorm"
)

// setClock moves the databases' clock, as Herald reads it, to at (and back when the test ends):
// quiet hours pass without the test waiting for them.
func setClock(t *testing.T, at time.Time, dbs ...*gorm.DB) {
	t.Helper()
	for _, db := range dbs {
		models.ShiftClock(db, time.Until(at))
		t.Cleanup(func() { models.ShiftClock(db, 0) })
	}
}

// quietGroup creates a group of the contacts whose quiet hours are the windows.
func (e *env) quietGroup(name string, policy models.QuietPolicy, windows []models.TimeWindow, contacts ...string) string {
	e.t.Helper()
	g, err := e.store.CreateGroup(context.Background(), models.GroupInput{Name: &name, ContactIDs: contacts, QuietHours: windows, QuietPolicy: &policy})
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(g.ID)
}

var berlinNights = []models.TimeWindow{{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}}

func berlin(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// A night of quiet hours that crosses midnight and the spring-forward change (02:00 → 03:00 in
// Berlin) holds what is not CRITICAL until the clocks read 07:00, eight real hours after 22:00;
// then the robot gets one digest of everything held, and a contact also named directly was never
// held.
func TestQuietHoursHoldAcrossMidnightAndDSTThenSendOneDigest(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tokOnCall, onCallURL := e.robot(senders.DingTalk, "SchedulerX")
		tokDirect, directURL := e.robot(senders.WeCom)
		sleeper := e.contact("sleeper", "", onCallURL)
		awake := e.contact("awake", "", directURL)
		group := e.quietGroup("db-oncall", models.QuietDigest, berlinNights, sleeper, awake)

		setClock(t, berlin(t, "2026-03-28 23:30:00"), e.db.Gorm)
		var held []*Alert
		for i := range 3 {
			held = append(held, e.alert(AlertInput{Title: fmt.Sprintf("replica lag %d", i), Severity: senders.Warning,
				Recipients: models.RecipientQuery{GroupIDs: []string{group}}}))
		}
		critical := e.alert(AlertInput{Title: "primary down", Severity: senders.Critical, Recipients: models.RecipientQuery{GroupIDs: []string{group}}})
		direct := e.alert(AlertInput{Title: "backup late", Severity: senders.Info,
			Recipients: models.RecipientQuery{GroupIDs: []string{group}, ContactIDs: []string{awake}}})
		held = append(held, direct)

		release := time.Date(2026, 3, 29, 5, 0, 0, 0, time.UTC) // 07:00 CEST
		for _, a := range held {
			for _, d := range e.deliveries(a.ID) {
				switch d.URL {
				case onCallURL:
					if d.Status != DeliveryHeld || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(release) || d.HeldBy == nil || *d.HeldBy != "db-oncall" {
						t.Fatalf("%q to the quiet group's robot: status %s until %v held by %v; want HELD until %s by db-oncall", a.Title, d.Status, d.NextAttemptAt, d.HeldBy, release)
					}
				case directURL:
					if want := map[bool]DeliveryStatus{true: DeliveryPending, false: DeliveryHeld}[a == direct]; d.Status != want {
						t.Fatalf("%q to the robot of a contact also named directly is %s, want %s", a.Title, d.Status, want)
					}
				}
			}
		}
		for _, d := range e.deliveries(critical.ID) {
			if d.Status != DeliveryPending {
				t.Fatalf("a CRITICAL alert's delivery is %s; CRITICAL passes quiet hours", d.Status)
			}
		}

		e.start(fastConfig())
		if got, _ := e.waitFinal(critical, 10*time.Second); got.Status != AlertDelivered {
			t.Fatalf("critical alert: %s", got.Status)
		}
		e.waitFor("the awake contact's robot to get the critical alert and the one naming it", 10*time.Second, func() bool {
			return len(e.fake.Received(tokDirect)) == 2
		})
		setClock(t, release.Add(-10*time.Second), e.db.Gorm)
		time.Sleep(10 * fastConfig().PollInterval) // polls that must release nothing
		if n := len(e.fake.Received(tokOnCall)); n != 1 {
			t.Fatalf("before 07:00 the quiet group's robot got %d messages, want only the critical one", n)
		}
		if n := e.countWhere(e.db.Gorm, &Delivery{}, "status = ?", DeliveryHeld); n != 7 {
			t.Fatalf("%d deliveries still held before 07:00, want 7 (4 to one robot, 3 to the other)", n)
		}

		setClock(t, release.Add(time.Second), e.db.Gorm)
		for _, a := range held {
			if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
				t.Fatalf("%q after the quiet hours: %s", a.Title, got.Status)
			}
		}
		got := e.fake.Received(tokOnCall)
		if len(got) != 2 {
			t.Fatalf("the quiet group's robot got %d messages, want the critical one and one digest", len(got))
		}
		text := got[1].Text
		if !strings.Contains(text, "Quiet hours digest: 4 alert(s) held for db-oncall") || !strings.Contains(text, "SchedulerX") {
			t.Fatalf("digest:\n%s", text)
		}
		for _, a := range held {
			if !strings.Contains(text, a.Title) {
				t.Fatalf("the digest does not list %q:\n%s", a.Title, text)
			}
		}
		if got := e.fake.Received(tokDirect); len(got) != 3 || !strings.Contains(got[2].Text, "Quiet hours digest: 3 alert(s)") {
			t.Fatalf("the other robot got %d messages, want 2 and a digest of the 3 held", len(got))
		}
		for _, d := range e.deliveries(held[0].ID) {
			if d.URL != onCallURL {
				continue
			}
			as := e.attempts(d.ID)
			if len(as) != 1 || as[0].Coalesced != 4 || as[0].Note == nil || !strings.Contains(*as[0].Note, "held by the quiet hours of db-oncall until 2026-03-29T05:00:00Z, then sent in a digest") {
				t.Fatalf("attempts of a held delivery: %+v", as)
			}
		}
	})
}

// Quiet hours that DROP record what they held as dropped when they end: nothing is sent, and an
// alert with nothing but dropped deliveries is DROPPED.
func TestQuietHoursThatDropRecordDroppedDeliveries(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, url := e.robot(senders.Lark)
		group := e.quietGroup("weekend", models.QuietDrop, []models.TimeWindow{{Weekdays: []int{6, 7}, Start: "00:00", End: "24:00", TimeZone: "Asia/Shanghai"}}, e.contact("dev", "", url))
		saturday := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC) // 20:00 in Shanghai
		setClock(t, saturday, e.db.Gorm)
		in := AlertInput{Title: "flaky test", Content: "on ci-3", Labels: Labels{{Name: "job", Value: "ci"}}, Recipients: models.RecipientQuery{GroupIDs: []string{group}}}
		outbox := NewOutbox(e.store, e.notifier)
		previews, err := outbox.Preview(context.Background(), in)
		if err != nil || len(previews) != 1 || previews[0].Note != "held by the quiet hours of weekend until 2026-12-06T16:00:00Z, then dropped (quiet policy DROP)" {
			t.Fatalf("preview: %+v, %v", previews, err)
		}
		if _, err := e.store.CreateSilence(context.Background(), models.SilenceInput{Matchers: []models.Matcher{{Label: "job", Op: models.MatchEqual, Value: "ci"}},
			EndsAt: saturday.Add(time.Hour), Comment: "ci maintenance"}); err != nil {
			t.Fatal(err)
		}
		previews, err = outbox.Preview(context.Background(), in)
		if err != nil || len(previews) != 1 || !strings.Contains(previews[0].Note, "(ci maintenance) mutes this alert until 2026-12-05T13:00:00Z: nothing would be sent") {
			t.Fatalf("preview under a silence: %+v, %v", previews, err)
		}
		setClock(t, saturday.Add(time.Hour), e.db.Gorm) // the silence has ended
		a := e.alert(in)
		ds := e.deliveries(a.ID)
		monday := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC) // Monday 00:00 in Shanghai
		if len(ds) != 1 || ds[0].Status != DeliveryHeld || ds[0].Hold != HoldDrop || !ds[0].NextAttemptAt.Equal(monday) {
			t.Fatalf("deliveries: %+v", ds[0])
		}
		e.start(fastConfig())
		setClock(t, monday.Add(time.Second), e.db.Gorm)
		got, ds := e.waitFinal(a, 10*time.Second)
		if got.Status != AlertDropped || ds[0].Status != DeliveryDropped || ds[0].NextAttemptAt != nil {
			t.Fatalf("alert %s, delivery %s", got.Status, ds[0].Status)
		}
		as := e.attempts(ds[0].ID)
		if len(as) != 1 || as[0].Outcome != Dropped || as[0].Note == nil || !strings.Contains(*as[0].Note, "then dropped (quiet policy DROP)") {
			t.Fatalf("attempts: %+v", as)
		}
		if n := len(e.fake.Received(tok)); n != 0 {
			t.Fatalf("a dropped delivery sent %d messages", n)
		}
	})
}

// However many alerts were held, the digest is one message that fits the platform's limit: the
// alerts that do not fit are counted, not sent in more messages.
func TestDigestFitsThePlatformLimit(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, url := e.robot(senders.DingTalk, "SchedulerX")
		group := e.quietGroup("night", models.QuietDigest, berlinNights, e.contact("ops", "", url))
		setClock(t, berlin(t, "2026-06-10 23:00:00"), e.db.Gorm)
		const alerts = 80
		var all []*Alert
		for i := range alerts {
			all = append(all, e.alert(AlertInput{
				Title: fmt.Sprintf("disk %02d %s", i, strings.Repeat("x", 150)), Content: strings.Repeat("a long line of detail ", 100),
				Recipients: models.RecipientQuery{GroupIDs: []string{group}},
			}))
		}
		e.start(fastConfig())
		setClock(t, berlin(t, "2026-06-11 07:00:01"), e.db.Gorm)
		for _, a := range all {
			if got, _ := e.waitFinal(a, 20*time.Second); got.Status != AlertDelivered {
				t.Fatalf("%s: %s", a.Title, got.Status)
			}
		}
		got := e.fake.Received(tok)
		if len(got) != 1 {
			t.Fatalf("the robot got %d messages, want one digest", len(got))
		}
		if len(got[0].Body) > fakeplatform.DingTalkMaxBody {
			t.Fatalf("the digest is %d bytes; DingTalk takes %d", len(got[0].Body), fakeplatform.DingTalkMaxBody)
		}
		if !strings.Contains(got[0].Text, "Quiet hours digest: 80 alert(s)") || !strings.Contains(got[0].Text, "more: see the alert history") ||
			!strings.Contains(got[0].Text, "disk 00") {
			t.Fatalf("digest:\n%s", got[0].Text)
		}
		if n := len(e.fake.Rejected(tok)); n != 0 {
			t.Fatalf("the platform refused %d messages", n)
		}
	})
}

// Two replicas on their own connection pools see the quiet hours end at once: each held delivery is
// released and sent once, one digest per robot.
func TestHeldDeliveriesAreReleasedOnceAcrossReplicas(t *testing.T) {
	e, other := replicaEnv(t)
	db := e.db
	const robots, perRobot = 6, 5
	var tokens, contacts []string
	for i := range robots {
		tok, url := e.robot(senders.WeCom)
		tokens = append(tokens, tok)
		contacts = append(contacts, e.contact(fmt.Sprintf("c%d", i), "", url))
	}
	group := e.quietGroup("fleet", models.QuietDigest, berlinNights, contacts...)
	setClock(t, berlin(t, "2026-10-24 23:00:00"), db.Gorm, other) // the night the clocks go back
	var all []*Alert
	for i := range perRobot {
		all = append(all, e.alert(AlertInput{Title: fmt.Sprintf("alert %d", i), Recipients: models.RecipientQuery{GroupIDs: []string{group}}}))
	}
	release := time.Date(2026, 10, 25, 6, 0, 0, 0, time.UTC) // 07:00 CET, ten real hours after 22:00 CEST
	if ds := e.deliveries(all[0].ID); !ds[0].NextAttemptAt.Equal(release) {
		t.Fatalf("held until %v, want %s", ds[0].NextAttemptAt, release)
	}
	e.start(fastConfig())
	e.startOn(e.storeOn(other), fastConfig())
	setClock(t, release.Add(time.Second), db.Gorm, other)
	for _, a := range all {
		if got, _ := e.waitFinal(a, 20*time.Second); got.Status != AlertDelivered {
			t.Fatalf("%s: %s", a.Title, got.Status)
		}
	}
	for i, tok := range tokens {
		got := e.fake.Received(tok)
		if len(got) != 1 || !strings.Contains(got[0].Text, fmt.Sprintf("Quiet hours digest: %d alert(s)", perRobot)) {
			t.Fatalf("robot %d got %d messages, want one digest of %d", i, len(got), perRobot)
		}
	}
	if n := e.countWhere(db.Gorm, &DeliveryAttempt{}, "1 = 1"); n != robots*perRobot {
		t.Fatalf("%d attempts recorded, want one per delivery (%d)", n, robots*perRobot)
	}
}
