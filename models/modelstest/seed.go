package modelstest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// Seed fills db with contacts, each with one webhook, in groups; each contact joins 1 to 3 groups
// chosen by a fixed pseudo-random sequence, so two runs seed the same data. Rows go in with bulk
// inserts: a benchmark's set-up should not take longer than the benchmark.
func Seed(tb testing.TB, db *gorm.DB, contacts, groups int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	gs := make([]models.Group, groups)
	for i := range gs {
		name := fmt.Sprintf("group-%05d", i)
		gs[i] = models.Group{Name: name, NameKey: models.NameKey(name), CreatedAt: now, UpdatedAt: now}
	}
	if err := db.CreateInBatches(gs, 1000).Error; err != nil {
		tb.Fatalf("seed groups: %v", err)
	}
	cs := make([]models.Contact, contacts)
	for i := range cs {
		name := fmt.Sprintf("Contact %06d-%05d", rng.IntN(1_000_000), i) // name order differs from id order
		cs[i] = models.Contact{Name: name, NameKey: models.NameKey(name), CreatedAt: now, UpdatedAt: now}
	}
	if err := db.CreateInBatches(cs, 1000).Error; err != nil {
		tb.Fatalf("seed contacts: %v", err)
	}
	hooks := make([]models.Webhook, 0, contacts)
	var members []models.Membership
	for _, c := range cs {
		u := fmt.Sprintf("https://oapi.dingtalk.com/robot/send?access_token=seed%08d", c.ID)
		hooks = append(hooks, models.Webhook{ContactID: c.ID, URL: u, RobotKey: fmt.Sprintf("%064d", c.ID), Platform: senders.DingTalk, CreatedAt: now, UpdatedAt: now})
		picked := map[uint]bool{}
		for range 1 + rng.IntN(3) {
			g := gs[rng.IntN(groups)].ID
			if !picked[g] {
				picked[g] = true
				members = append(members, models.Membership{ContactID: c.ID, GroupID: g, CreatedAt: now})
			}
		}
	}
	if err := db.Omit("Contact").CreateInBatches(hooks, 1000).Error; err != nil {
		tb.Fatalf("seed webhooks: %v", err)
	}
	if err := db.Omit("Contact", "Group").CreateInBatches(members, 2000).Error; err != nil {
		tb.Fatalf("seed memberships: %v", err)
	}
}
