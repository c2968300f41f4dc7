package delivery

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
)

// BenchmarkAcceptRouted measures what routing and silences add to accepting an alert: the same
// alert to one robot named directly, and found by 100 routes (the match the 80th, after regex
// matchers that fail) with 50 live silences that do not match.
//
//	go test -run '^$' -bench AcceptRouted -benchtime 2000x ./delivery
func BenchmarkAcceptRouted(b *testing.B) {
	for _, db := range modelstest.Databases(b) {
		e := newEnv(b, db)
		ctx := context.Background()
		_, url := e.robot(senders.WeCom)
		contact := e.contact("bench", "", url)
		g, err := e.store.CreateGroup(ctx, models.GroupInput{Name: ptr("bench"), ContactIDs: []string{contact}})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 100 {
			value := fmt.Sprintf("team-%02d", i)
			_, err := e.store.CreateRoute(ctx, models.RouteInput{Name: fmt.Sprintf("route %d", i), GroupIDs: []string{models.FormatID(g.ID)},
				Matchers: []models.Matcher{{Label: "team", Op: models.MatchEqual, Value: value}, {Label: "env", Op: models.MatchRegexp, Value: "prod|stage"}}})
			if err != nil {
				b.Fatal(err)
			}
		}
		for i := range 50 {
			_, err := e.store.CreateSilence(ctx, models.SilenceInput{Matchers: []models.Matcher{{Label: "job", Op: models.MatchRegexp, Value: fmt.Sprintf("backup-%d.*", i)}},
				EndsAt: time.Now().Add(time.Hour), Comment: "bench"})
			if err != nil {
				b.Fatal(err)
			}
		}
		outbox := NewOutbox(e.store, e.notifier)
		labels := Labels{{Name: "env", Value: "prod"}, {Name: "team", Value: "team-79"}}
		for _, c := range []struct {
			name string
			in   AlertInput
		}{
			{"named", AlertInput{Recipients: models.RecipientQuery{ContactIDs: []string{contact}}, Labels: labels}},
			{"routed", AlertInput{Labels: labels}},
		} {
			b.Run(db.Name+"/"+c.name, func(b *testing.B) {
				in := c.in
				in.Title, in.Content = "replica lag", "db-2 is 40 s behind"
				for b.Loop() {
					a, _, err := outbox.Accept(ctx, in)
					if err != nil || (c.name == "routed" && len(a.RoutedBy) != 1) {
						b.Fatalf("accept: %v (routed by %v)", err, a.RoutedBy)
					}
				}
			})
		}
	}
}
