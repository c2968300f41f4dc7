package delivery

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
)

// BenchmarkFeedPoll measures one poll of the change feed while a namespace is watched (1,000
// pending alerts, feedMaxPending, each with one delivery) and one alert's deliveries are: what each
// replica spends every HERALD_LIVE_POLL while someone subscribes. It reports the statements a poll
// runs.
//
//	go test -run '^$' -bench FeedPoll -benchtime 200x ./delivery
func BenchmarkFeedPoll(b *testing.B) {
	for _, db := range modelstest.Databases(b) {
		e := newEnv(b, db)
		_, url := e.robot(senders.WeCom)
		contact := e.contact("bench", "", url)
		var last *Alert
		for range feedMaxPending {
			last = e.alert(AlertInput{Recipients: models.RecipientQuery{ContactIDs: []string{contact}}})
		}
		feed := NewFeed(db.Gorm, 0)
		ctx, cancel := context.WithCancel(context.Background())
		feed.WatchAlerts(ctx, last.NamespaceID)
		feed.WatchDeliveries(ctx, last.ID)
		b.Run(db.Name, func(b *testing.B) {
			var statements int64
			for b.Loop() {
				counted, n := models.WithStatementCounter(context.Background())
				if err := feed.Poll(counted); err != nil {
					b.Fatal(err)
				}
				statements = n.Load()
			}
			b.ReportMetric(float64(statements), "statements/poll")
		})
		cancel()
	}
}
