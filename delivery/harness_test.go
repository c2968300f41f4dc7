package delivery

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
	"gorm.io/gorm"
)

// env is one database, the fake platforms on loopback, and a notifier allowed to reach them.
type env struct {
	keyring  *secrets.Keyring
	guard    *notify.Guard
	t        testing.TB
	db       modelstest.DB
	store    *models.Store
	fake     *fakeplatform.Server
	notifier *notify.Notifier
	robots   atomic.Int64
}

func newEnv(t testing.TB, db modelstest.DB) *env {
	t.Helper()
	if err := Migrate(db.Gorm); err != nil {
		t.Fatal(err)
	}
	fake := fakeplatform.New()
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	guard, err := notify.NewGuard(platforms.Registry, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := notify.New(notify.Config{Platforms: platforms.Registry, Guard: guard, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, fake: fake, notifier: n, keyring: modelstest.Keyring(t), guard: guard}
	e.store = e.storeOn(db.Gorm)
	return e
}

// storeOn is a store over db (another connection pool to the test database, for a replica) that
// seals and opens secrets with the test's key, as every replica shares one key file.
func (e *env) storeOn(db *gorm.DB) *models.Store {
	s := models.NewStore(db, e.guard.CheckWebhook)
	s.UseKeyring(e.keyring)
	return s
}

// replicaEnv is an env on MySQL with a second connection pool to the same database, standing in
// for a second replica; the test is skipped without MySQL.
func replicaEnv(t *testing.T) (*env, *gorm.DB) {
	t.Helper()
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("needs MySQL: replicas share a database over the network")
	}
	return newEnv(t, db), modelstest.OtherPool(t, db)
}

// each runs fn on SQLite and, when reachable, MariaDB.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) { fn(t, newEnv(t, db)) })
}

// robot registers a robot on the fake and returns its token and URL.
func (e *env) robot(p senders.Platform, keywords ...string) (string, string) {
	tok := fmt.Sprintf("tok%s%04d", strings.ToLower(string(p)), e.robots.Add(1))
	return tok, e.fake.AddRobot(fakeplatform.Robot{Platform: p, Token: tok, Keywords: keywords})
}

// contact creates a contact with the given webhook URLs and returns its id.
func (e *env) contact(name string, phone string, urls ...string) string {
	e.t.Helper()
	in := models.ContactInput{Name: &name}
	if phone != "" {
		in.Phone = &phone
	}
	for _, u := range urls {
		in.Webhooks = append(in.Webhooks, models.WebhookInput{URL: u})
	}
	c, err := e.store.CreateContact(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(c.ID)
}

func (e *env) alert(in AlertInput) *Alert {
	e.t.Helper()
	if in.Title == "" {
		in.Title = "disk full"
	}
	if in.Content == "" {
		in.Content = "on db-1"
	}
	a, _, err := NewOutbox(e.store, e.notifier).Accept(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// fastConfig keeps every delay of the dispatcher short enough for tests.
func fastConfig() Config {
	return Config{
		Workers: 8, PollInterval: 20 * time.Millisecond, Lease: 5 * time.Second, Grace: 2 * time.Second,
		RetryBase: 20 * time.Millisecond, RetryCap: 200 * time.Millisecond, Linger: 100 * time.Millisecond,
		BreakerThreshold: 5, BreakerCooldown: 300 * time.Millisecond,
	}
}

// start runs a dispatcher until the test ends or stop is called; stop returns Run's error.
func (e *env) start(cfg Config) (*Dispatcher, func() error) {
	return e.startOn(e.store, cfg)
}

func (e *env) startOn(store *models.Store, cfg Config) (*Dispatcher, func() error) {
	d := New(store, e.notifier, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	stopped := false
	var err error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err = <-errc:
			case <-time.After(30 * time.Second):
				e.t.Fatal("Run did not return after its context ended")
			}
		}
		return err
	}
	e.t.Cleanup(func() { _ = stop() })
	return d, stop
}

// waitFor polls cond until it holds or the timeout passes.
func (e *env) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFinal waits until the alert leaves PENDING and returns it with its deliveries.
func (e *env) waitFinal(a *Alert, timeout time.Duration) (*Alert, []*Delivery) {
	e.t.Helper()
	var got *Alert
	e.waitFor("alert "+models.FormatID(a.ID)+" to finish", timeout, func() bool {
		var err error
		got, err = NewOutbox(e.store, e.notifier).Alert(context.Background(), models.FormatID(a.ID))
		if err != nil {
			e.t.Fatal(err)
		}
		return got.Status != AlertPending
	})
	return got, e.deliveries(a.ID)
}

func (e *env) deliveries(alertID uint) []*Delivery {
	e.t.Helper()
	m, err := NewOutbox(e.store, e.notifier).DeliveriesByAlert(context.Background(), []uint{alertID})
	if err != nil {
		e.t.Fatal(err)
	}
	return m[alertID]
}

func (e *env) attempts(deliveryID uint) []*DeliveryAttempt {
	e.t.Helper()
	m, err := NewOutbox(e.store, e.notifier).AttemptsByDelivery(context.Background(), []uint{deliveryID})
	if err != nil {
		e.t.Fatal(err)
	}
	return m[deliveryID]
}

func (e *env) countWhere(db *gorm.DB, model any, where string, args ...any) int {
	e.t.Helper()
	var n int64
	if err := db.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return int(n)
}

// claimOne claims one robot's due deliveries as a poll would, and returns its claim or nil.
func claimOne(t *testing.T, d *Dispatcher, key string) *claim {
	t.Helper()
	claims, _, err := d.claimRobots(context.Background(), []string{key})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims {
		if c.key == key {
			return c
		}
	}
	return nil
}

// sent is the result of c's batch b having been accepted by its robot.
func sentResult(c *claim, b *batch) *result {
	return &result{c: c, b: b, outcome: senders.Sent, res: senders.Result{Outcome: senders.Sent}}
}
