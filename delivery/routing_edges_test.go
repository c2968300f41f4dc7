package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
)

// A retried sendAlert with the same idempotency key answers the first alert, even after the route
// that chose its recipients is gone: the key is looked up before anything is routed.
func TestARetryAfterTheRoutesChangedGetsItsFirstAlert(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		_, url := e.robot(senders.WeCom)
		name := "ops"
		g, err := e.store.CreateGroup(ctx, models.GroupInput{Name: &name, ContactIDs: []string{e.contact("ann", "", url)}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.store.CreateRoute(ctx, models.RouteInput{Name: "db", GroupIDs: []string{models.FormatID(g.ID)},
			Matchers: []models.Matcher{{Label: "team", Op: models.MatchEqual, Value: "db"}}})
		if err != nil {
			t.Fatal(err)
		}
		key := "retry-me"
		in := AlertInput{Title: "disk", Content: "full", Labels: Labels{{Name: "team", Value: "db"}}, IdempotencyKey: &key}
		first := e.alert(in)
		if err := e.store.DeleteRoute(ctx, models.FormatID(r.ID)); err != nil {
			t.Fatal(err)
		}
		again, created, err := NewOutbox(e.store, e.notifier).Accept(ctx, in)
		if err != nil {
			t.Fatalf("the retry of an accepted alert (same idempotency key) is refused: %v", err)
		}
		if created || again.ID != first.ID {
			t.Fatalf("retry: created %v id %d, want the first alert %d", created, again.ID, first.ID)
		}
	})
}

// At the window's end the held deliveries are sent as one digest message per robot, even when more
// were held than a claim takes of a robot (BatchSize).
func TestMoreHeldThanABatchIsStillOneDigest(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, url := e.robot(senders.WeCom)
		group := e.quietGroup("night", models.QuietDigest, berlinNights, e.contact("ops", "", url))
		setClock(t, berlin(t, "2026-06-10 23:00:00"), e.db.Gorm)
		const held = 12
		var all []*Alert
		for i := range held {
			all = append(all, e.alert(AlertInput{Title: fmt.Sprintf("disk %02d", i), Recipients: models.RecipientQuery{GroupIDs: []string{group}}}))
		}
		cfg := fastConfig()
		cfg.BatchSize = 5
		e.start(cfg)
		setClock(t, berlin(t, "2026-06-11 07:00:01"), e.db.Gorm)
		for _, a := range all {
			if got, _ := e.waitFinal(a, 20*time.Second); got.Status != AlertDelivered {
				t.Fatalf("%s: %s", a.Title, got.Status)
			}
		}
		got := e.fake.Received(tok)
		if len(got) != 1 {
			var titles []string
			for _, m := range got {
				first, _, _ := strings.Cut(m.Text, "\n")
				titles = append(titles, first)
			}
			t.Fatalf("%d held deliveries to one robot left as %d messages, want one digest: %q", held, len(got), titles)
		}
	})
}

// The names of the groups that held a delivery fit their column however many groups there were.
func TestHeldByTextFitsItsColumn(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("%02d-%s", i, strings.Repeat("群", 20)))
	}
	got := heldByText(names)
	if len(got) > maxHeldBy || !strings.HasPrefix(got, names[0]+", ") || !strings.HasSuffix(got, ", …") {
		t.Fatalf("%d bytes: %q", len(got), got)
	}
	if got := heldByText(names[:2]); got != names[0]+", "+names[1] {
		t.Fatalf("two names: %q", got)
	}
}
