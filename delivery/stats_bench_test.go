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

// BenchmarkDeliveryStats measures the overview's query over a week of history: 10,000 alerts of
// 10 deliveries each (100,000 deliveries, a tenth failed, one attempt each) spread over 7 days,
// across 500 robots; each iteration reads the counts by hour, the latency percentiles, the failing
// robots and alerts by source, as deliveryStats does for the console's 7-day view.
//
//	go test -run '^$' -bench DeliveryStats -benchtime 20x ./delivery
func BenchmarkDeliveryStats(b *testing.B) {
	const alerts, perAlert, robots = 10_000, 10, 500
	for _, db := range modelstest.Databases(b) {
		e := newEnv(b, db)
		now := time.Now().UTC()
		platforms := []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark}
		for chunk := 0; chunk < alerts; chunk += 500 {
			rows := make([]Alert, 0, 500)
			for i := chunk; i < chunk+500; i++ {
				at := now.Add(-time.Duration(i) * 7 * 24 * time.Hour / alerts)
				rows = append(rows, Alert{NamespaceID: 1, Title: "t", Content: "c", Severity: senders.Warning, Format: senders.Markdown,
					Status: AlertDelivered, CreatedAt: at, UpdatedAt: at})
			}
			if err := db.Gorm.CreateInBatches(rows, 500).Error; err != nil {
				b.Fatal(err)
			}
			var ds []Delivery
			for i, a := range rows {
				for j := range perAlert {
					r := (chunk + i*perAlert + j) % robots
					status := DeliverySent
					if (i+j)%10 == 0 {
						status = DeliveryFailed
					}
					ds = append(ds, Delivery{AlertID: a.ID, Platform: platforms[r%3], URL: fmt.Sprintf("https://robot/%d", r),
						RobotKey: fmt.Sprintf("%064d", r), Status: status, Attempts: 1, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt})
				}
			}
			if err := db.Gorm.Omit("Alert").CreateInBatches(ds, 1000).Error; err != nil {
				b.Fatal(err)
			}
			var ts []DeliveryAttempt
			for i, d := range ds {
				ts = append(ts, DeliveryAttempt{DeliveryID: d.ID, At: d.CreatedAt, DurationMs: 20 + i%200, Outcome: senders.Sent, Coalesced: 1})
			}
			if err := db.Gorm.Omit("Delivery").CreateInBatches(ts, 1000).Error; err != nil {
				b.Fatal(err)
			}
		}
		outbox := NewOutbox(e.store, e.notifier)
		ctx := models.WithNamespace(context.Background(), &models.Namespace{ID: 1, Name: models.DefaultNamespace})
		s, err := outbox.Stats(ctx, now.Add(-7*24*time.Hour), now, BucketHour)
		if err != nil {
			b.Fatal(err)
		}
		for _, part := range []struct {
			name string
			read func() error
		}{
			{"counts", func() error {
				fresh, err := outbox.Stats(ctx, s.From, s.To, s.Bucket) // without the counts s keeps
				if err != nil {
					return err
				}
				_, totals, err := outbox.StatsCounts(ctx, fresh)
				if err == nil && totals.Total != alerts*perAlert {
					err = fmt.Errorf("counted %d deliveries", totals.Total)
				}
				return err
			}},
			{"latency", func() error { _, err := outbox.StatsLatency(ctx, s); return err }},
			{"failingRobots", func() error { _, err := outbox.FailingRobots(ctx, s, 5); return err }},
			{"alertsBySource", func() error { _, err := outbox.AlertsBySource(ctx, s); return err }},
		} {
			b.Run(db.Name+"/"+part.name, func(b *testing.B) {
				for b.Loop() {
					if err := part.read(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
