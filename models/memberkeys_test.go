package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// Every membership's key copy is its contact's name key, however it was written: through the
// store from either side, by a rename, by a bulk INSERT that bypasses the store, and from before the
// copy existed (filled at the next start).
func TestMemberKeysFollowTheirContacts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		ctx := context.Background()
		store := modelstest.Store(t, db)
		name := func(s string) *string { return &s }
		var groups, contacts []string
		for i := range 4 {
			g, err := store.CreateGroup(ctx, models.GroupInput{Name: name(fmt.Sprintf("Group %d", i))})
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, models.FormatID(g.ID))
		}
		for i := range 30 {
			c, err := store.CreateContact(ctx, models.ContactInput{Name: name(fmt.Sprintf("Person %02d", 29-i)), GroupIDs: groups[:1+i%3], Webhooks: memberHook})
			if err != nil {
				t.Fatal(err)
			}
			contacts = append(contacts, models.FormatID(c.ID))
		}
		if _, err := store.AddContactsToGroup(ctx, groups[3], contacts[:10]); err != nil {
			t.Fatal(err)
		}
		if _, err := store.UpdateContact(ctx, contacts[0], models.ContactInput{Name: name("ÄRenamed Ünïcode")}); err != nil {
			t.Fatal(err)
		}
		// A write that bypasses the store: an older replica's, or a bulk load.
		if err := db.Gorm.Exec("INSERT INTO memberships (contact_id, group_id, created_at) SELECT id, ?, created_at FROM contacts WHERE name LIKE 'Person 1%'",
			groups[3]).Error; err != nil {
			t.Fatal(err)
		}
		checkMemberKeys(t, db)

		// From before the copy: its triggers and values gone, the next start fills them.
		for _, trigger := range []string{"memberships_contact_key_insert", "contacts_membership_keys_update"} {
			if err := db.Gorm.Exec("DROP TRIGGER " + trigger).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Gorm.Exec("UPDATE memberships SET contact_key = ''").Error; err != nil {
			t.Fatal(err)
		}
		if err := models.Migrate(db.Gorm); err != nil {
			t.Fatal(err)
		}
		checkMemberKeys(t, db)
		if _, err := store.UpdateContact(ctx, contacts[1], models.ContactInput{Name: name("a")}); err != nil {
			t.Fatal(err)
		}
		checkMemberKeys(t, db)
	})
}

var memberHook = []models.WebhookInput{{URL: "https://oapi.dingtalk.com/robot/send?access_token=members"}}

func checkMemberKeys(t *testing.T, db modelstest.DB) {
	t.Helper()
	var rows []struct {
		ContactID  uint
		ContactKey []byte
		NameKey    []byte
	}
	if err := db.Gorm.Raw("SELECT m.contact_id, m.contact_key, c.name_key FROM memberships m JOIN contacts c ON c.id = m.contact_id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no memberships")
	}
	for _, r := range rows {
		if string(r.ContactKey) != string(r.NameKey) {
			t.Fatalf("contact %d: membership key %q, name key %q", r.ContactID, r.ContactKey, r.NameKey)
		}
	}
}

// A group's first members read through the key index are those the window over all members
// numbers first, for any page size, in name order, including case and characters beyond ASCII.
func TestFirstMembersByKeyAreTheWindowsFirst(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		ctx := context.Background()
		store := modelstest.Store(t, db)
		r := rand.New(rand.NewPCG(5, 9))
		name := func(s string) *string { return &s }
		var groups []uint
		var groupIDs []string
		for i := range 6 {
			g, err := store.CreateGroup(ctx, models.GroupInput{Name: name(fmt.Sprintf("G%d", i))})
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, g.ID)
			groupIDs = append(groupIDs, models.FormatID(g.ID))
		}
		seen := map[string]bool{}
		for len(seen) < 80 {
			n := strings.TrimSpace(randomName(r))
			if n == "" || seen[models.NameKey(n)] {
				continue
			}
			seen[models.NameKey(n)] = true
			var in []string
			for _, g := range groupIDs[1:] { // the first group stays empty
				if r.IntN(3) > 0 {
					in = append(in, g)
				}
			}
			if _, err := store.CreateContact(ctx, models.ContactInput{Name: name(n), GroupIDs: in, Webhooks: memberHook}); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{1, 11, 101} {
			byKey, err := store.FirstMembersByGroup(ctx, groups, n)
			if err != nil {
				t.Fatal(err)
			}
			restore := models.SetMaxUnionGroups(0)
			byWindow, err := store.FirstMembersByGroup(ctx, groups, n)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range groups {
				keys := func(cs []*models.Contact) []string {
					out := make([]string, len(cs))
					for i, c := range cs {
						out[i] = c.NameKey
					}
					return out
				}
				if a, b := keys(byKey[g]), keys(byWindow[g]); !slices.Equal(a, b) {
					t.Fatalf("group %d, first %d: by key %q, by window %q", g, n, a, b)
				}
				if g != groups[0] && len(byKey[g]) == 0 {
					t.Fatalf("group %d has no first members", g)
				}
			}
		}
	})
}
