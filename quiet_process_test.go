package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// Held deliveries live in the database: a replica killed with SIGKILL while they wait loses
// nothing, and when the quiet hours end (on the database clock, which HERALD_CLOCK_SHIFT moves to
// a few seconds before 07:00 in Berlin) whichever replica sees it first releases them, once: each
// robot gets one digest. On MySQL two replicas share the work; on SQLite one process is killed and
// started again.
func TestHeldDeliveriesSurviveAKillAndAreReleasedOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		const robots, alerts = 4, 5
		fake := startFake(t, 0)
		berlin, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			t.Fatal(err)
		}
		quietEnd := time.Date(2026, 3, 29, 7, 0, 0, 0, berlin) // the night the clocks go forward
		const lead = 12 * time.Second                          // real time from now until the quiet hours end
		endsAt := time.Now().Add(lead)
		env := deliveryEnv(db, "HERALD_CLOCK_SHIFT="+quietEnd.Add(-lead).Sub(time.Now()).String())
		replicas := 1
		if db.Name == "mysql" {
			replicas = 2
		}
		var bases []string
		var killable = launch(t, env...)
		bases = append(bases, killable.base)
		for range replicas - 1 {
			bases = append(bases, launch(t, env...).base)
		}
		base := bases[len(bases)-1]

		var ids, tokens []string
		for i := range robots {
			r := fakeplatform.Robot{Platform: senders.DingTalk, Token: fmt.Sprintf("night-%d", i), Secret: "SECnight", Keywords: []string{"SchedulerX"}}
			var out struct{ CreateContact struct{ ID string } }
			gql(t, base, `mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"name": r.Token, "webhooks": []any{map[string]any{"url": fake.AddRobot(r), "secret": r.Secret}},
			}}, &out)
			ids, tokens = append(ids, out.CreateContact.ID), append(tokens, r.Token)
		}
		var g struct{ CreateContactGroup struct{ ID string } }
		gql(t, base, `mutation($ids: [ID!]) { createContactGroup(input: {name: "night", contactIds: $ids,
			quietHours: [{start: "22:00", end: "07:00", timeZone: "Europe/Berlin"}]}) { id } }`, map[string]any{"ids": ids}, &g)
		var sent []string
		for i := range alerts {
			sent = append(sent, sendToGroup(t, bases[i%len(bases)], g.CreateContactGroup.ID, fmt.Sprintf("night alert %d", i)))
		}
		var a struct {
			Alert struct {
				Deliveries []struct{ Status, NextAttemptAt string }
			}
		}
		gql(t, base, `query($id: ID!) { alert(id: $id) { deliveries { status nextAttemptAt } } }`, map[string]any{"id": sent[0]}, &a)
		for _, d := range a.Alert.Deliveries {
			if d.Status != "HELD" || d.NextAttemptAt != "2026-03-29T05:00:00Z" {
				t.Fatalf("a delivery during quiet hours: %+v, want HELD until 2026-03-29T05:00:00Z", d)
			}
		}
		if n := metricSum(t, base, "herald_deliveries_held"); n != robots*alerts {
			t.Fatalf("herald_deliveries_held is %d, want %d", n, robots*alerts)
		}
		if err := killable.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = killable.cmd.Wait()
		if replicas == 1 {
			base = launch(t, env...).base
		}

		for _, id := range sent {
			if status := waitForAlert(t, base, id, lead+30*time.Second); status != "DELIVERED" {
				t.Fatalf("alert %s is %s after the quiet hours", id, status)
			}
		}
		if replicas > 1 {
			launch(t, env...) // the killed replica comes back: nothing is sent again
			time.Sleep(time.Second)
		}
		if n := metricSum(t, base, "herald_deliveries_held"); n != 0 {
			t.Fatalf("herald_deliveries_held is %d after the quiet hours", n)
		}
		for _, tok := range tokens {
			got := fake.Received(tok)
			if len(got) != 1 {
				t.Fatalf("robot %s got %d messages, want one digest", tok, len(got))
			}
			if !strings.Contains(got[0].Text, fmt.Sprintf("Quiet hours digest: %d alert(s) held for night", alerts)) {
				t.Fatalf("robot %s got:\n%s", tok, got[0].Text)
			}
			if got[0].At.Before(endsAt.Add(-time.Second)) {
				t.Fatalf("robot %s got its digest at %s, before the quiet hours ended (%s)", tok, got[0].At, endsAt)
			}
		}
	})
}
