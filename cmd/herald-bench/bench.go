package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// bench is one invocation: shared by every backend and scale it measures.
type bench struct {
	opts   options
	ops    []opSpec
	client *client
	token  string
	// secretKey seals the seeded webhook secrets, as Herald's own key (HERALD_SECRET_KEY) would.
	secretKey string
	keyring   *secrets.Keyring
	fake      *fakeplatform.Server
	heraldBin string
	tmp       string
	created   atomic.Int64 // createContact names
	logf      func(format string, a ...any)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// target is one database the benchmark created for a run.
type target struct {
	url     string
	cfg     models.DatabaseConfig
	db      *sql.DB
	cleanup func() error
}

// openTarget creates an empty database: a throw-away MariaDB database or a temporary SQLite file,
// migrated by Herald's own models.Migrate.
func (b *bench) openTarget(ctx context.Context, backend string) (*target, error) {
	t := &target{}
	switch backend {
	case "mysql":
		base, err := gomysql.ParseDSN(b.opts.mysqlDSN)
		if err != nil {
			return nil, fmt.Errorf("-mysql: %w", err)
		}
		base.DBName = ""
		base.Timeout = 5 * time.Second
		admin, err := sql.Open("mysql", base.FormatDSN())
		if err != nil {
			return nil, err
		}
		name := "herald_bench_" + randomHex(6)
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			admin.Close()
			return nil, fmt.Errorf("create database on %s: %w", base.Addr, err)
		}
		b.logf("created database %s", name)
		u := &url.URL{Scheme: "mysql", Host: base.Addr, Path: "/" + name, RawQuery: b.opts.dbParams}
		if base.Passwd != "" {
			u.User = url.UserPassword(base.User, base.Passwd)
		} else {
			u.User = url.User(base.User)
		}
		t.url = u.String()
		t.cleanup = func() error {
			defer admin.Close()
			if b.opts.keep {
				b.logf("kept database %s (-keep)", name)
				return nil
			}
			_, err := admin.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			return err
		}
	case "sqlite":
		parent := b.tmp // removed when the benchmark ends
		if b.opts.keep {
			parent = ""
		}
		dir, err := os.MkdirTemp(parent, "herald-bench-sqlite-")
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "herald.db")
		t.url = "sqlite://" + path
		t.cleanup = func() error {
			if b.opts.keep {
				b.logf("kept %s (-keep)", path)
				return nil
			}
			return os.RemoveAll(dir)
		}
	default:
		return nil, fmt.Errorf("unknown backend %q: mysql or sqlite", backend)
	}
	var err error
	if t.cfg, err = models.ParseDatabaseURL(t.url); err != nil {
		_ = t.cleanup()
		return nil, err
	}
	gdb, err := models.Open(t.cfg)
	if err == nil {
		if err = models.Migrate(gdb); err == nil {
			err = delivery.Migrate(gdb)
		}
	}
	if err == nil {
		t.db, err = gdb.DB()
	}
	if err != nil {
		_ = t.cleanup()
		return nil, fmt.Errorf("open and migrate %s: %w", t.cfg, err)
	}
	inner := t.cleanup
	t.cleanup = func() error {
		t.db.Close()
		return inner()
	}
	return t, nil
}

// serverEnv is the environment of the Herald process: ours, without any HERALD_* setting of the
// caller's, plus the benchmark's settings.
func (b *bench) serverEnv(dbURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HERALD_DATABASE="+dbURL,
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_LOG_FORMAT=text",
		"HERALD_REPORT_SQL_STATEMENTS=true",
		"HERALD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1",
		"HERALD_ADMIN_TOKEN="+b.token,
		"HERALD_SECRET_KEY="+b.secretKey,
	)
	return append(env, b.opts.serverEnv...)
}

// runScale measures every selected operation on one backend at one scale, with history stored
// deliveries.
func (b *bench) runScale(ctx context.Context, backend string, scale, history int) (run *Run, err error) {
	run = &Run{Backend: backend, Scale: scale, History: history}
	t, err := b.openTarget(ctx, backend)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := t.cleanup(); cerr != nil && err == nil {
			err = fmt.Errorf("clean up: %w", cerr)
		}
	}()
	sd := newSeeder(t.db, t.cfg.Backend, b.fake.URL, b.opts.seed, b.keyring)
	t0 := time.Now()
	if run.Data, err = sd.seed(ctx, scale); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	t1 := time.Now()
	if err := sd.history(ctx, history, &run.Data); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	run.HistorySeedSeconds = round(time.Since(t1).Seconds(), 2)
	run.SeedSeconds = round(time.Since(t0).Seconds(), 2)
	b.logf("%s: seeded %d contacts, %d webhooks, %d groups, %d memberships; %d alerts, %d deliveries, %d attempts in %.1f s (the history in %.1f s)",
		run.label(), run.Data.Contacts, run.Data.Webhooks, run.Data.Groups, run.Data.Memberships, run.Data.Alerts, run.Data.Deliveries,
		run.Data.Attempts, run.SeedSeconds, run.HistorySeedSeconds)

	reads, err := b.readRequests(ctx, t.db, run.Data)
	if err != nil {
		return nil, err
	}
	if b.hasReads() {
		run.Explain = explainQueries(ctx, t.db, t.cfg.Backend, reads.explain)
		run.Explain = append(run.Explain, explainBoundedReads(ctx, t.db, t.cfg.Backend, reads.explain, reads.bounded)...)
	}

	logPath := filepath.Join(b.opts.out, fmt.Sprintf("herald-%s-%s-%s.log", backend, scaleName(scale), scaleName(history)))
	srv, err := startHerald(b.heraldBin, b.serverEnv(t.url), logPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := srv.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	b.logf("%s: herald pid %d listening on %s (log %s)", run.label(), srv.Pid(), srv.Addr, logPath)
	floorSrv, floorURL, err := startFloor(t.db)
	if err != nil {
		return nil, err
	}
	defer floorSrv.Close()

	for _, spec := range b.ops {
		if !spec.Read {
			continue
		}
		o, err := b.measureRead(ctx, run, spec, srv.URL, floorURL, reads.bodies[spec.Name])
		if err != nil {
			return nil, err
		}
		run.Ops = append(run.Ops, o)
		if err := b.probeSizes(ctx, run, spec.Name, srv.URL, reads.bodies[spec.Name][0]); err != nil {
			return nil, err
		}
	}
	peak, _, _ := memory(srv.Pid())
	run.PeakRSSReadMiB = round(peak, 1)

	w := &writes{b: b, run: run, db: t.db, seeder: sd, url: srv.URL}
	for _, spec := range b.ops {
		if spec.Read {
			continue
		}
		o, err := w.measure(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
		run.Ops = append(run.Ops, o)
	}
	peak, _, _ = memory(srv.Pid())
	run.PeakRSSEndMiB = round(peak, 1)
	return run, nil
}

// pageSizes are the page sizes each paged read (a read whose request has the variable n) is sent
// with once more, unloaded: its statement count must not depend on them.
var pageSizes = []int{10, 100}

// probeSizes records the statements of one request of the read at each of pageSizes.
func (b *bench) probeSizes(ctx context.Context, run *Run, op, url string, body []byte) error {
	var req gqlRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	if _, paged := req.Variables["n"]; !paged {
		return nil
	}
	if run.SizeStatements == nil {
		run.SizeStatements = map[string]map[string]int64{}
	}
	m := map[string]int64{}
	for _, n := range pageSizes {
		vars := maps.Clone(req.Variables)
		vars["n"] = n
		s, err := b.client.call(ctx, url, gqlRequest{Query: req.Query, OperationName: req.OperationName, Variables: vars}, nil)
		if err != nil {
			return fmt.Errorf("%s at page size %d: %w", op, n, err)
		}
		m[fmt.Sprint(n)] = s
	}
	run.SizeStatements[op] = m
	return nil
}

func (b *bench) hasReads() bool {
	return slices.ContainsFunc(b.ops, func(o opSpec) bool { return o.Read })
}

// levels is the concurrency levels an operation runs at.
func (b *bench) levels(spec opSpec) []int {
	if spec.Serial {
		return []int{1}
	}
	return b.opts.levels
}

func (b *bench) cellLoad(conc int) load {
	return load{Concurrency: conc, Duration: b.opts.duration, Requests: b.opts.requests}
}

func errText(runs ...cellRun) string {
	var parts []string
	for _, r := range runs {
		if r.Errors > 0 {
			parts = append(parts, fmt.Sprintf("%d errors, first: %s", r.Errors, r.FirstError))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " !! " + strings.Join(parts, "; ")
}

// addStatements folds a cell's statement counts into the operation's.
func (o *OpResult) addStatements(r cellRun) {
	if r.StmtMax < 0 {
		return
	}
	if o.StatementsMin < 0 || r.StmtMin < o.StatementsMin {
		o.StatementsMin = r.StmtMin
	}
	o.Statements = max(o.Statements, r.StmtMax)
}

var errCI = errors.New("statement counts exceed the record")
