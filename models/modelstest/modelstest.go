// Package modelstest opens throw-away databases for tests: a fresh SQLite file always, and a fresh
// MariaDB/MySQL database whenever a server answers at HERALD_TEST_MYSQL.
package modelstest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders/platforms"
	"gorm.io/gorm"
)

// DB is one migrated, empty test database.
type DB struct {
	// Name is "sqlite" or "mysql", for subtest names.
	Name   string
	Gorm   *gorm.DB
	Config models.DatabaseConfig
	// URL is the HERALD_DATABASE value that reaches this database, for starting a server process.
	URL string
}

const defaultMySQL = "root@tcp(127.0.0.1:3306)/"

// Databases returns a fresh SQLite database and, when reachable, a fresh MySQL database.
// With HERALD_TEST_MYSQL_REQUIRED=1 an unreachable MySQL server fails the test instead of being skipped.
func Databases(t testing.TB) []DB {
	t.Helper()
	dbs := []DB{SQLite(t)}
	if my, ok := MySQL(t); ok {
		dbs = append(dbs, my)
	}
	return dbs
}

// Each runs fn as a subtest on every database from Databases.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) { fn(t, db) })
	}
}

// SQLite opens a migrated database in a new file under the test's temporary directory.
func SQLite(t testing.TB) DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald.db")
	cfg, err := models.ParseDatabaseURL("sqlite://" + path)
	if err != nil {
		t.Fatal(err)
	}
	return open(t, "sqlite", cfg, "sqlite://"+path)
}

// MySQL creates a database on the test server and drops it when the test ends. ok is false when no
// server answers and HERALD_TEST_MYSQL_REQUIRED is not set.
func MySQL(t testing.TB) (DB, bool) {
	t.Helper()
	dsn := os.Getenv("HERALD_TEST_MYSQL")
	if dsn == "" {
		dsn = defaultMySQL
	}
	base, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("HERALD_TEST_MYSQL: %v", err)
	}
	base.Timeout = 3 * time.Second
	admin, err := sql.Open("mysql", base.FormatDSN())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		if os.Getenv("HERALD_TEST_MYSQL_REQUIRED") == "1" {
			t.Fatalf("MySQL test server unreachable at HERALD_TEST_MYSQL and HERALD_TEST_MYSQL_REQUIRED=1: %v", err)
		}
		t.Logf("MySQL tests not run: no server at HERALD_TEST_MYSQL (%v)", err)
		return DB{}, false
	}
	name := "herald_test_" + randomSuffix()
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u := &url.URL{Scheme: "mysql", Host: base.Addr, Path: "/" + name}
	if base.Passwd != "" {
		u.User = url.UserPassword(base.User, base.Passwd)
	} else {
		u.User = url.User(base.User)
	}
	cfg, err := models.ParseDatabaseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	return open(t, "mysql", cfg, u.String()), true
}

// OtherPool opens another connection pool to db's database, closed when the test ends: what a
// second replica would use.
func OtherPool(t testing.TB, db DB) *gorm.DB {
	t.Helper()
	other, err := models.Open(db.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := other.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return other
}

func open(t testing.TB, name string, cfg models.DatabaseConfig, dbURL string) DB {
	t.Helper()
	db := OtherPool(t, DB{Config: cfg})
	if err := models.Migrate(db); err != nil {
		t.Fatal(err)
	}
	return DB{Name: name, Gorm: db, Config: cfg, URL: dbURL}
}

func randomSuffix() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(b))
}

// Keyring returns a fresh key ring for sealing secrets in a test.
func Keyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	k, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Store returns a store over db that can seal secrets.
func Store(t testing.TB, db DB) *models.Store {
	t.Helper()
	s := models.NewStore(db.Gorm, platforms.Registry.Recognize)
	s.UseKeyring(Keyring(t))
	return s
}
