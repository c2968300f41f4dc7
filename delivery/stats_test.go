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

// The statistics' arithmetic on rows written directly: percentiles by nearest rank, failing robots
// in order with their totals, attempts that made no call left out, the range's edges respected.
func TestDeliveryStatsPercentilesAndFailingRobots(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newEnv(t, db)
		now := time.Now().UTC()
		alert := func(at time.Time) *Alert {
			a := &Alert{NamespaceID: 1, Title: "t", Content: "c", Severity: senders.Warning, Format: senders.Markdown, Status: AlertDelivered, CreatedAt: at, UpdatedAt: at}
			if err := db.Gorm.Create(a).Error; err != nil {
				t.Fatal(err)
			}
			return a
		}
		delivery := func(a *Alert, robot string, p senders.Platform, status DeliveryStatus, ms ...int) {
			d := &Delivery{AlertID: a.ID, Platform: p, URL: "https://robot/" + robot, RobotKey: fmt.Sprintf("%064s", robot), Status: status, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}
			if err := db.Gorm.Omit("Alert").Create(d).Error; err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				outcome := senders.Sent
				if m < 0 {
					outcome, m = Expired, 0 // no call
				}
				if err := db.Gorm.Omit("Delivery").Create(&DeliveryAttempt{DeliveryID: d.ID, At: a.CreatedAt, DurationMs: m, Outcome: outcome, Coalesced: 1}).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		a := alert(now.Add(-time.Hour))
		for ms := 1; ms <= 100; ms++ {
			delivery(a, "ding", senders.DingTalk, DeliverySent, ms)
		}
		delivery(a, "lark", senders.Lark, DeliverySent, 7, -1, -1)
		b := alert(now.Add(-2 * time.Hour))
		for range 3 {
			delivery(b, "a", senders.WeCom, DeliveryFailed, 5)
			delivery(b, "b", senders.WeCom, DeliveryFailed, 5)
		}
		delivery(b, "a", senders.WeCom, DeliverySent, 5)
		old := alert(now.Add(-48 * time.Hour)) // outside the range
		delivery(old, "c", senders.WeCom, DeliveryFailed, 5000)

		outbox := NewOutbox(e.store, e.notifier)
		ctx := models.WithNamespace(context.Background(), &models.Namespace{ID: 1, Name: models.DefaultNamespace})
		s, err := outbox.Stats(ctx, now.Add(-24*time.Hour), now, BucketHour)
		if err != nil {
			t.Fatal(err)
		}
		latency, err := outbox.StatsLatency(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		want := []PlatformLatency{{senders.DingTalk, 100, 50, 95}, {senders.Lark, 1, 7, 7}, {senders.WeCom, 7, 5, 5}}
		if fmt.Sprint(latency) != fmt.Sprint(want) {
			t.Errorf("latency %v, want %v", latency, want)
		}
		robots, err := outbox.FailingRobots(ctx, s, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(robots) != 2 || robots[0].Failed != 3 || robots[0].Total != 4 || robots[0].LastFailure.URL != "https://robot/a" ||
			robots[1].Failed != 3 || robots[1].Total != 3 || robots[1].LastFailure.URL != "https://robot/b" {
			t.Errorf("failing robots %+v", robots)
		}
		_, totals, err := outbox.StatsCounts(ctx, s)
		if err != nil || totals.Total != 108 || totals.Failed != 6 {
			t.Errorf("totals %+v (%v)", totals, err)
		}
	})
}
