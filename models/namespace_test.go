package models_test

import (
	"context"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// The scope holds for query shapes no store method uses today: an Or cannot escape it, and a Save
// of another namespace's row does not move the row into the caller's namespace.
func TestTheNamespaceScopeHasNoBackDoor(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		store := modelstest.Store(t, db)
		bg := context.Background()
		teamB, err := store.CreateNamespace(bg, models.NamespaceInput{Name: ptr("team-b")})
		if err != nil {
			t.Fatal(err)
		}
		def, err := store.NamespaceByName(bg, models.DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		inA, inB := models.WithNamespace(bg, def), models.WithNamespace(bg, teamB)
		hook := []models.WebhookInput{{URL: "https://oapi.dingtalk.com/robot/send?access_token=scope"}}
		alice, err := store.CreateContact(inA, models.ContactInput{Name: ptr("Alice"), Webhooks: hook})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := store.CreateContact(inA, models.ContactInput{Name: ptr("Bob"), Webhooks: hook})
		if err != nil {
			t.Fatal(err)
		}
		var found []models.Contact
		if err := db.Gorm.WithContext(inB).Where("id = ?", alice.ID).Or("id = ?", bob.ID).Find(&found).Error; err != nil || len(found) != 0 {
			t.Fatalf("an Or reached namespace A from B: %v %v", found, err)
		}
		stolen := *alice
		stolen.Name = "Mallory"
		if err := db.Gorm.WithContext(inB).Save(&stolen).Error; err == nil {
			t.Fatal("a Save from B of A's contact succeeded")
		}
		var again models.Contact
		if err := db.Gorm.First(&again, alice.ID).Error; err != nil || again.Name != "Alice" || again.NamespaceID != def.ID {
			t.Fatalf("after B's Save, A's contact is %+v (%v)", again, err)
		}
	})
}

// A replica whose cache still holds a namespace another replica deleted cannot write into it: the
// create checks the namespace in its own transaction, and the delete locks it before counting.
func TestNoRowLandsInADeletedNamespace(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		one, two := modelstest.Store(t, db), modelstest.Store(t, db) // two replicas' stores
		bg := context.Background()
		tmp, err := one.CreateNamespace(bg, models.NamespaceInput{Name: ptr("tmp")})
		if err != nil {
			t.Fatal(err)
		}
		stale, err := two.NamespaceByName(bg, "tmp") // replica two has seen it
		if err != nil {
			t.Fatal(err)
		}
		if err := one.DeleteNamespace(bg, models.FormatID(tmp.ID)); err != nil {
			t.Fatal(err)
		}
		cached, err := two.NamespaceByName(bg, "tmp")
		if err != nil || cached.ID != stale.ID {
			t.Fatalf("replica two's cache should still hold tmp for now: %v %v", cached, err)
		}
		_, err = two.CreateContact(models.WithNamespace(bg, cached), models.ContactInput{Name: ptr("Orphan"),
			Webhooks: []models.WebhookInput{{URL: "https://oapi.dingtalk.com/robot/send?access_token=orphan"}}})
		if e, ok := models.AsError(err); !ok || e.Kind != models.KindNotFound {
			t.Fatalf("a create in the deleted namespace: %v", err)
		}
		var n int64
		if err := db.Gorm.Model(&models.Contact{}).Where("namespace_id = ?", tmp.ID).Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d rows landed in the deleted namespace (%v)", n, err)
		}
	})
}
