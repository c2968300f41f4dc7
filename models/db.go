package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/glebarez/sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Backend names a supported database.
type Backend string

const (
	SQLite Backend = "sqlite"
	MySQL  Backend = "mysql"
)

// DatabaseConfig is a parsed HERALD_DATABASE value.
type DatabaseConfig struct {
	Backend Backend
	// SQLitePath is a file path or ":memory:".
	SQLitePath string
	// MySQL is the driver configuration, password included; never print it.
	MySQL *gomysql.Config
}

// String describes the database without its password, for logs.
func (c DatabaseConfig) String() string {
	if c.Backend == SQLite {
		return "sqlite://" + c.SQLitePath
	}
	return fmt.Sprintf("mysql://%s@%s/%s", c.MySQL.User, c.MySQL.Addr, c.MySQL.DBName)
}

// ParseDatabaseURL reads sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DBNAME?params.
// Error messages never repeat the value: it may hold a password.
func ParseDatabaseURL(raw string) (DatabaseConfig, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		path := strings.TrimPrefix(raw, "sqlite://")
		if path == "" {
			return DatabaseConfig{}, errors.New("sqlite:// needs a file path, or :memory:")
		}
		return DatabaseConfig{Backend: SQLite, SQLitePath: path}, nil
	case strings.HasPrefix(raw, "mysql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return DatabaseConfig{}, errors.New("mysql URL is malformed; expected mysql://USER:PASSWORD@HOST:PORT/DBNAME?params (percent-encode special characters in the password)")
		}
		dbName := strings.TrimPrefix(u.Path, "/")
		if u.Host == "" || dbName == "" || u.User == nil || u.User.Username() == "" {
			return DatabaseConfig{}, errors.New("mysql URL needs a user, a host and a database name: mysql://USER:PASSWORD@HOST:PORT/DBNAME")
		}
		host := u.Host
		if u.Port() == "" {
			host += ":3306"
		}
		// Parse everything but the password through the driver so that its own params are honoured.
		cfg, err := gomysql.ParseDSN(fmt.Sprintf("%s@tcp(%s)/%s?%s", u.User.Username(), host, dbName, u.RawQuery))
		if err != nil {
			return DatabaseConfig{}, fmt.Errorf("mysql URL parameters: %s", redactErr(err, u))
		}
		cfg.Passwd, _ = u.User.Password()
		if _, set := u.Query()["timeout"]; !set {
			// Without a dial timeout an unreachable host holds a request for the OS's TCP timeout
			// (minutes); three seconds is long for a database on the same network.
			cfg.Timeout = 3 * time.Second
		}
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		// Store and compare text as raw code points; name uniqueness is decided by our own name key.
		cfg.Collation = "utf8mb4_bin"
		// Interpolating parameters client-side saves the prepare and close round trips of every
		// statement; the driver does it only for charsets where it is safe, and utf8mb4 is one.
		if _, set := u.Query()["interpolateParams"]; !set {
			cfg.InterpolateParams = true
		}
		return DatabaseConfig{Backend: MySQL, MySQL: cfg}, nil
	default:
		scheme, _, found := strings.Cut(raw, "://")
		if !found {
			scheme = "(none)"
		}
		return DatabaseConfig{}, fmt.Errorf("unsupported scheme %q: use sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DBNAME", scheme)
	}
}

func redactErr(err error, u *url.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "***")
	}
	return msg
}

// Open connects to the database and configures the connection pool for the backend.
func Open(cfg DatabaseConfig) (*gorm.DB, error) {
	clk := &clock{}
	gcfg := &gorm.Config{
		// Duplicate keys arrive as gorm.ErrDuplicatedKey on both backends.
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc: func() time.Time {
			return time.Now().UTC().Add(time.Duration(clk.shift.Load())).Truncate(time.Microsecond)
		},
	}
	var (
		db  *gorm.DB
		err error
	)
	switch cfg.Backend {
	case SQLite:
		db, err = gorm.Open(sqlite.Open(sqliteDSN(cfg.SQLitePath)), gcfg)
	case MySQL:
		conn, cerr := gomysql.NewConnector(cfg.MySQL)
		if cerr != nil {
			return nil, fmt.Errorf("open %s: %w", cfg, cerr)
		}
		db, err = gorm.Open(mysql.New(mysql.Config{Conn: sql.OpenDB(conn)}), gcfg)
	default:
		return nil, fmt.Errorf("unknown database backend %q", cfg.Backend)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg, err)
	}
	clocks.Store(db.Dialector, clk)
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg, err)
	}
	switch {
	case cfg.Backend == SQLite && cfg.SQLitePath == ":memory:":
		// Every connection to :memory: is a separate empty database: keep exactly one.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	case cfg.Backend == SQLite:
		sqlDB.SetMaxOpenConns(4)
	default:
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	registerStatementCounter(db)
	return db, nil
}

// sqliteDSN switches on, for every pooled connection, what SQLite leaves off by default: foreign keys
// (without them ON DELETE CASCADE does nothing), a busy timeout instead of an immediate SQLITE_BUSY,
// WAL so readers do not block the writer, and immediate transactions so that two writers queue
// at BEGIN instead of deadlocking when both upgrade a read lock.
func sqliteDSN(path string) string {
	params := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_txlock=immediate"
	if path != ":memory:" {
		params += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	return "file:" + path + "?" + params
}

// Ping reports whether the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// UnavailableMessage is what a client is told while the database is away.
const UnavailableMessage = "the database is unavailable; try again shortly"

// IsUnavailable reports whether err says that the database could not be reached or dropped the
// connection, rather than that it refused a statement: such an error is worth retrying once the
// database answers again, and a client is told to try again later.
func IsUnavailable(err error) bool {
	// A request that ran out of time or was cancelled is not an outage, whatever the driver saw
	// (context.DeadlineExceeded even passes for a net.Error); a slow statement or lock wait stays an
	// internal error that is logged.
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, gomysql.ErrInvalidConn), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var me *gomysql.MySQLError
	// 1053: the server is shutting down; 1927: the connection was killed.
	return errors.As(err, &me) && (me.Number == 1053 || me.Number == 1927)
}

// IsMySQL reports whether db talks to MySQL or MariaDB.
func IsMySQL(db *gorm.DB) bool { return db.Dialector.Name() == "mysql" }

type statementCounterKey struct{}

// WithStatementCounter returns a context whose SQL statements are counted into the returned counter.
// Tests and benchmarks use it to prove that a query's cost does not grow with the page size.
func WithStatementCounter(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, statementCounterKey{}, n), n
}

// StatementCount is the count so far of a context from WithStatementCounter, or -1 without one.
func StatementCount(ctx context.Context) int64 {
	if n, ok := ctx.Value(statementCounterKey{}).(*atomic.Int64); ok {
		return n.Load()
	}
	return -1
}

func registerStatementCounter(db *gorm.DB) {
	count := func(tx *gorm.DB) {
		// A subquery is built by running the callbacks dry: it is part of its statement, not one.
		if tx.Statement == nil || tx.Statement.Context == nil || tx.DryRun {
			return
		}
		if n, ok := tx.Statement.Context.Value(statementCounterKey{}).(*atomic.Int64); ok && tx.Statement.SQL.Len() > 0 {
			n.Add(1)
		}
	}
	cb := db.Callback()
	_ = cb.Create().After("gorm:create").Register("herald:count_create", count)
	_ = cb.Query().After("gorm:query").Register("herald:count_query", count)
	_ = cb.Update().After("gorm:update").Register("herald:count_update", count)
	_ = cb.Delete().After("gorm:delete").Register("herald:count_delete", count)
	_ = cb.Row().After("gorm:row").Register("herald:count_row", count)
	_ = cb.Raw().After("gorm:raw").Register("herald:count_raw", count)
}
