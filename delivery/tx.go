package delivery

import (
	"context"
	"database/sql"
	"errors"
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

// dbNow reads the database's clock (models.DBNow): the outbox's only clock.
func dbNow(tx *gorm.DB) (time.Time, error) { return models.DBNow(tx) }

// nowExpr is the database's clock inside a statement (models.NowExpr).
func nowExpr(db *gorm.DB) any { return models.NowExpr(db) }
