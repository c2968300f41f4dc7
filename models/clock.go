package models

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// The database's clock is the only clock the outbox, silences and quiet hours use, so replicas
// with skewed clocks agree on what is due, active or quiet. UTC_TIMESTAMP rather than NOW: stored
// times are UTC whatever the session time zone. SQLite runs in this process, so its clock is ours;
// times are bound as UTC text, which SQLite then compares as strings, so every time bound must be
// UTC.
//
// A database's clock may be shifted (ShiftClock): tests move time through it, as every replica
// would see it, rather than by sleeping.

// clock is one opened database's shift. It is found by the database's dialector, which every
// session and transaction of the database shares (gorm copies its Config for each of them).
type clock struct{ shift atomic.Int64 }

var clocks sync.Map // gorm.Dialector → *clock

func clockOf(db *gorm.DB) *clock {
	if c, ok := clocks.Load(db.Dialector); ok {
		return c.(*clock)
	}
	return nil
}

// shiftOf is the database's shift; zero for a database not opened by Open.
func shiftOf(db *gorm.DB) time.Duration {
	if c := clockOf(db); c != nil {
		return time.Duration(c.shift.Load())
	}
	return 0
}

// ShiftClock moves the database's clock, as Herald reads it, by d from real time (replacing an
// earlier shift). For tests and demos that must see a silence end or quiet hours pass.
func ShiftClock(db *gorm.DB, d time.Duration) {
	if c := clockOf(db); c != nil {
		c.shift.Store(int64(d))
	}
}

// DBNow reads the database's clock.
func DBNow(tx *gorm.DB) (time.Time, error) {
	if !IsMySQL(tx) {
		return tx.NowFunc(), nil
	}
	var t time.Time
	if err := tx.Raw("SELECT UTC_TIMESTAMP(6)").Row().Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return t.UTC().Add(shiftOf(tx)), nil
}

// NowExpr is the database's clock inside a statement, saving the round trip of DBNow where a
// statement only compares with it.
func NowExpr(db *gorm.DB) any {
	if !IsMySQL(db) {
		return db.NowFunc()
	}
	if d := shiftOf(db); d != 0 {
		return gorm.Expr("TIMESTAMPADD(MICROSECOND, ?, UTC_TIMESTAMP(6))", d.Microseconds())
	}
	return gorm.Expr("UTC_TIMESTAMP(6)")
}
