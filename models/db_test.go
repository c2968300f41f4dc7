package models_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders/platforms"
)

func TestParseDatabaseURL(t *testing.T) {
	good := map[string]string{
		"sqlite://herald.db":                         "sqlite://herald.db",
		"sqlite://:memory:":                          "sqlite://:memory:",
		"sqlite:///var/h.db":                         "sqlite:///var/h.db",
		"mysql://u:p%40ss@db:3307/herald?timeout=5s": "mysql://u@db:3307/herald",
		"mysql://u@db/herald":                        "mysql://u@db:3306/herald",
	}
	for in, want := range good {
		cfg, err := models.ParseDatabaseURL(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if cfg.String() != want {
			t.Errorf("%s: String() = %s, want %s", in, cfg.String(), want)
		}
	}
	cfg, _ := models.ParseDatabaseURL("mysql://u:p%40ss@db:3307/herald?timeout=5s")
	if cfg.MySQL.Passwd != "p@ss" || !cfg.MySQL.ParseTime || cfg.MySQL.Timeout.String() != "5s" {
		t.Errorf("mysql config = %+v", cfg.MySQL)
	}
	for _, bad := range []string{"", "herald.db", "postgres://u:topsecret@h/db", "sqlite://", "mysql://u:topsecret@h", "mysql://u:topsecret@h/db?timeout=forever"} {
		_, err := models.ParseDatabaseURL(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%q: error shows the password: %v", bad, err)
		}
	}
}

func TestMigrationIsSafeToRunAgain(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		store := models.NewStore(db.Gorm, platforms.Registry.Recognize)
		name := "Kept"
		if _, err := store.CreateGroup(t.Context(), models.GroupInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := models.Migrate(db.Gorm); err != nil {
				t.Fatalf("second migration: %v", err)
			}
		}
		n, err := store.CountGroups(t.Context(), models.GroupFilter{})
		if err != nil || n != 1 {
			t.Fatalf("groups after re-migration: %d, %v", n, err)
		}
		if _, err := store.CreateGroup(t.Context(), models.GroupInput{Name: &name}); err == nil {
			t.Fatal("the unique name index did not survive re-migration")
		}
	})
}
