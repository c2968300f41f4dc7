package models_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders/platforms"
	"gorm.io/gorm"
)

// fixtureDB opens, on each database, what Herald's main wrote before namespaces existed
// (testdata/before-namespaces.*: three contacts, two groups, memberships, a token, an alert).
func fixtureDB(t *testing.T, backend string) *gorm.DB {
	t.Helper()
	switch backend {
	case "sqlite":
		src, err := os.ReadFile("testdata/before-namespaces.sqlite")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "herald.db")
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _ := models.ParseDatabaseURL("sqlite://" + path)
		db, err := models.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return db
	default:
		my, ok := modelstest.MySQL(t)
		if !ok {
			t.Skip("no MySQL server")
		}
		dump, err := os.ReadFile("testdata/before-namespaces.mysql.sql")
		if err != nil {
			t.Fatal(err)
		}
		// The helper migrated the new database: start from the old schema instead.
		if err := my.Gorm.Exec("DROP TABLE IF EXISTS namespaces").Error; err != nil {
			t.Fatal(err)
		}
		// One connection: the dump sets session variables and restores them at its end.
		err = my.Gorm.Connection(func(conn *gorm.DB) error {
			var lines []string
			for _, line := range strings.Split(string(dump), "\n") {
				if !strings.HasPrefix(line, "/*M!") { // the MariaDB client's sandbox marker, not SQL
					lines = append(lines, line)
				}
			}
			for _, stmt := range strings.Split(strings.Join(lines, "\n"), ";\n") {
				if stmt = strings.TrimSpace(stmt); stmt == "" {
					continue
				}
				if err := conn.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%w\n%s", err, stmt)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("load the dump: %v", err)
		}
		return my.Gorm
	}
}

type snapshot struct {
	contacts, groups, memberships, tokens, alerts, audit int64
	indexes                                              []string
}

func take(t *testing.T, db *gorm.DB) snapshot {
	t.Helper()
	var s snapshot
	for _, c := range []struct {
		model any
		into  *int64
	}{{&models.Contact{}, &s.contacts}, {&models.Group{}, &s.groups}, {&models.Membership{}, &s.memberships},
		{&models.APIToken{}, &s.tokens}, {&delivery.Alert{}, &s.alerts}, {&models.AuditEntry{}, &s.audit}} {
		if err := db.Model(c.model).Count(c.into).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, model := range []any{&models.Contact{}, &models.Group{}, &delivery.Alert{}} {
		indexes, err := db.Migrator().GetIndexes(model)
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range indexes {
			s.indexes = append(s.indexes, ix.Name())
		}
	}
	slices.Sort(s.indexes)
	return s
}

func migrateAll(t *testing.T, db *gorm.DB) {
	t.Helper()
	if err := models.Migrate(db); err != nil {
		t.Fatal(err)
	}
	if err := delivery.Migrate(db); err != nil {
		t.Fatal(err)
	}
}

// A database written before namespaces moves into the default namespace on start-up, with nothing
// lost, and a second start changes nothing.
func TestADatabaseFromBeforeNamespacesMovesIntoDefault(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			db := fixtureDB(t, backend)
			before := take(t, db)
			if before.contacts != 3 || before.groups != 2 || before.memberships != 3 || before.tokens != 1 || before.alerts != 1 || before.audit < 6 {
				t.Fatalf("the fixture holds %+v", before)
			}
			migrateAll(t, db)
			first := take(t, db)
			if fmt.Sprint(first.contacts, first.groups, first.memberships, first.tokens, first.alerts, first.audit) !=
				fmt.Sprint(before.contacts, before.groups, before.memberships, before.tokens, before.alerts, before.audit) {
				t.Fatalf("rows changed: %+v, then %+v", before, first)
			}
			for _, gone := range []string{"ux_contacts_name_key", "ux_contact_groups_name_key", "ux_alerts_idempotency_key"} {
				if slices.Contains(first.indexes, gone) {
					t.Fatalf("the pre-namespace index %s is still there: %v", gone, first.indexes)
				}
			}
			migrateAll(t, db)
			if second := take(t, db); fmt.Sprint(second) != fmt.Sprint(first) {
				t.Fatalf("a second start changed %+v into %+v", first, second)
			}
			for _, table := range []string{"contacts", "contact_groups", "alerts", "audit_entries"} {
				var outside int64
				if err := db.Table(table).Where("namespace_id IS NULL OR namespace_id <> ?", models.DefaultNamespaceID).Count(&outside).Error; err != nil || outside != 0 {
					t.Fatalf("%s: %d rows outside the default namespace (%v)", table, outside, err)
				}
			}
			var token models.APIToken
			if err := db.First(&token).Error; err != nil || token.NamespaceID != nil {
				t.Fatalf("the old token should hold in every namespace: %+v %v", token, err)
			}

			key, err := os.ReadFile("testdata/before-namespaces.key")
			if err != nil {
				t.Fatal(err)
			}
			keyring, err := secrets.FromBase64(strings.TrimSpace(string(key)))
			if err != nil {
				t.Fatal(err)
			}
			store := models.NewStore(db, platforms.Registry.Recognize)
			store.UseKeyring(keyring)
			def, err := store.NamespaceByName(context.Background(), models.DefaultNamespace)
			if err != nil {
				t.Fatal(err)
			}
			ctx := models.WithNamespace(context.Background(), def)
			page, err := store.Contacts(ctx, models.ContactFilter{}, models.PageArgs{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range page.Items {
				names = append(names, c.Name)
			}
			if strings.Join(names, ",") != "Alice,Bob,Carol" {
				t.Fatalf("default's contacts: %v", names)
			}
			recipients, err := models.ResolveRecipients(db.WithContext(ctx), models.RecipientQuery{GroupNames: []string{"Ops"}})
			if err != nil || len(recipients) != 1 || len(recipients[0].Webhooks) != 1 || !recipients[0].Webhooks[0].HasSecret() {
				t.Fatalf("Ops's recipient with its sealed secret: %+v %v", recipients, err)
			}
			if _, err := store.CreateContact(ctx, models.ContactInput{Name: ptr("alice"), Webhooks: []models.WebhookInput{{URL: "https://oapi.dingtalk.com/robot/send?access_token=x"}}}); err == nil {
				t.Fatal("a second alice in default")
			}
			team, err := store.CreateNamespace(context.Background(), models.NamespaceInput{Name: ptr("team-b")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.CreateContact(models.WithNamespace(context.Background(), team), models.ContactInput{Name: ptr("Alice"),
				Webhooks: []models.WebhookInput{{URL: "https://oapi.dingtalk.com/robot/send?access_token=x"}}}); err != nil {
				t.Fatalf("Alice in team-b: %v", err)
			}
		})
	}
}

func ptr(s string) *string { return &s }
