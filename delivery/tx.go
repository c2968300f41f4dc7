package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/models"
	"gorm.io/gorm"
)

// queueTxTimeout bounds each queue transaction. The dispatcher records results on a context that
// outlives its own cancellation, so the transaction needs a bound of its own.
const queueTxTimeout = 15 * time.Second

// queueTx runs fn in one transaction of the outbox: accepting alerts, claiming deliveries and
// recording results.
//
// On MySQL it runs at READ COMMITTED. Under the default REPEATABLE READ a locking read also locks the
// gaps around the rows it scans, so a claim's range over a robot's due deliveries would block the
// insert of a new alert's delivery into that range, and with a worker recording a result the three
// deadlock. At READ COMMITTED locking reads lock only the rows they return, and each statement sees
// what was committed before it, which the alert status count relies on. A transaction MySQL still
// picks as a deadlock victim, or that timed out waiting for a lock, left nothing behind and is retried.
func queueTx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	var opts []*sql.TxOptions
	if models.IsMySQL(db) {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	for attempt := 1; ; attempt++ {
		tctx, cancel := context.WithTimeout(ctx, queueTxTimeout)
		err := db.WithContext(tctx).Transaction(fn, opts...)
		cancel()
		if err == nil || attempt == 5 || !lockConflict(err) {
			return err
		}
		time.Sleep(time.Duration(rand.N(10*attempt)+1) * time.Millisecond)
	}
}

func lockConflict(err error) bool {
	var me *gomysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// The database's clock is the only clock the outbox uses, so replicas with skewed clocks agree on
// what is due. UTC_TIMESTAMP rather than NOW: stored times are UTC whatever the session time zone.
// SQLite runs in this process, so its clock is ours; times are bound as UTC text, which SQLite then
// compares as strings, so every time the outbox binds must be UTC.

// dbNow reads the database's clock.
func dbNow(tx *gorm.DB) (time.Time, error) {
	if !models.IsMySQL(tx) {
		return tx.NowFunc(), nil
	}
	var t time.Time
	if err := tx.Raw("SELECT UTC_TIMESTAMP(6)").Row().Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return t.UTC(), nil
}

// nowExpr is the database's clock inside a statement, saving the round trip of dbNow where a
// statement only compares with it (the idle poll).
func nowExpr(db *gorm.DB) any {
	if models.IsMySQL(db) {
		return gorm.Expr("UTC_TIMESTAMP(6)")
	}
	return db.NowFunc()
}
