package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// The audit log is pruned oldest first, at most a limit per call, down to the cutoff: entries of
// every namespace and of none go, younger ones stay.
func TestRetentionPrunesTheAuditLogInBatches(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		s := modelstest.Store(t, db)
		ctx := context.Background()
		now, err := models.DBNow(db.Gorm)
		if err != nil {
			t.Fatal(err)
		}
		cutoff := now.Add(-90 * 24 * time.Hour)
		other := uint(2)
		var rows []models.AuditEntry
		for i := range 7 {
			e := models.AuditEntry{At: cutoff.Add(-time.Duration(i+1) * time.Hour), TokenName: "ops", TokenRole: models.RoleAdmin, Operation: "old", ObjectIDs: []string{}}
			if i%2 == 1 {
				e.NamespaceID = &other
			}
			rows = append(rows, e)
		}
		for i := range 3 {
			rows = append(rows, models.AuditEntry{At: cutoff.Add(time.Duration(i+1) * time.Minute), TokenName: "ops", TokenRole: models.RoleAdmin, Operation: "young", ObjectIDs: []string{}})
		}
		if err := db.Gorm.Create(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var got []int
		for {
			n, err := s.PruneAuditLog(ctx, cutoff, 3)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
			if n == 0 {
				break
			}
			if len(got) == 1 {
				var oldest models.AuditEntry
				if err := db.Gorm.Order("at").First(&oldest).Error; err != nil {
					t.Fatal(err)
				}
				if want := cutoff.Add(-4 * time.Hour); !oldest.At.Equal(want) {
					t.Fatalf("after the first batch the oldest entry is of %s, want %s: the oldest go first", oldest.At, want)
				}
			}
		}
		if len(got) != 4 || got[0] != 3 || got[1] != 3 || got[2] != 1 || got[3] != 0 {
			t.Fatalf("the batches deleted %v, want [3 3 1 0]", got)
		}
		var left []string
		if err := db.Gorm.Model(&models.AuditEntry{}).Order("id").Pluck("operation", &left).Error; err != nil {
			t.Fatal(err)
		}
		if len(left) != 3 || left[0] != "young" || left[2] != "young" {
			t.Fatalf("left %v, want the three young entries", left)
		}
		if _, err := s.PruneAuditLog(ctx, cutoff, 0); err == nil {
			t.Fatal("a limit of 0 was accepted")
		}
	})
}
