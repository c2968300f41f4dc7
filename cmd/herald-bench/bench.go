package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/heraldhq/herald/secrets"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
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
		dir, err := os.MkdirTemp(b.tmp, "sqlite-")
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

// runScale measures every selected operation on one backend at one scale.
func (b *bench) runScale(ctx context.Context, backend string, scale int) (run *Run, err error) {
	run = &Run{Backend: backend, Scale: scale}
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
	run.SeedSeconds = round(time.Since(t0).Seconds(), 2)
	b.logf("%s %s: seeded %d contacts, %d webhooks, %d groups, %d memberships in %.1f s",
		backend, scaleName(scale), run.Data.Contacts, run.Data.Webhooks, run.Data.Groups, run.Data.Memberships, run.SeedSeconds)

	reads, err := b.readRequests(ctx, t.db, run.Data)
	if err != nil {
		return nil, err
	}
	if b.hasReads() {
		run.Explain = explainQueries(ctx, t.db, t.cfg.Backend, reads.explain)
	}

	logPath := filepath.Join(b.opts.out, fmt.Sprintf("herald-%s-%s.log", backend, scaleName(scale)))
	srv, err := startHerald(b.heraldBin, b.serverEnv(t.url), logPath)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := srv.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	b.logf("%s %s: herald pid %d listening on %s (log %s)", backend, scaleName(scale), srv.Pid(), srv.Addr, logPath)
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
		if spec.Name == "page" {
			run.PageStatements = map[string]int64{}
			for _, n := range []int{10, 100} {
				s, err := b.client.call(ctx, srv.URL, gqlRequest{Query: qNestedPage, OperationName: "NestedPage", Variables: map[string]any{"n": n}}, nil)
				if err != nil {
					return nil, err
				}
				run.PageStatements[fmt.Sprint(n)] = s
			}
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

func (b *bench) hasReads() bool {
	return slices.ContainsFunc(b.ops, func(o opSpec) bool { return o.Read })
}

// readSet is the request bodies of each read operation, sent in turn, and the values to explain.
type readSet struct {
	bodies  map[string][][]byte
	explain explainParams
}

// readRequests prepares what the read operations send: the same bodies go to Herald and the floor.
func (b *bench) readRequests(ctx context.Context, db *sql.DB, ds dataset) (readSet, error) {
	rs := readSet{bodies: map[string][][]byte{}}
	req := func(q, op string, vars map[string]any) []byte {
		return gqlRequest{Query: q, OperationName: op, Variables: vars}.body()
	}
	rs.bodies["page"] = [][]byte{req(qNestedPage, "NestedPage", map[string]any{"n": 100})}

	// The deep page starts after the contact 90% down the name order, the cursor built as Herald builds it.
	var key string
	if err := db.QueryRowContext(ctx, "SELECT name_key FROM contacts ORDER BY name_key LIMIT 1 OFFSET ?", ds.Contacts*9/10-1).Scan(&key); err != nil {
		return rs, fmt.Errorf("find the deep cursor: %w", err)
	}
	rs.bodies["deepPage"] = [][]byte{req(qNestedPage, "NestedPage", map[string]any{"n": 100, "after": cursor(key)})}
	rs.explain.deepKey = key

	terms := searchTerms()
	for _, q := range terms {
		rs.bodies["search"] = append(rs.bodies["search"], req(qSearch, "SearchContacts", map[string]any{"q": q}))
	}
	r := newSeeder(nil, "", "", b.opts.seed+1, nil).rng
	for _, g := range r.Perm(ds.Groups)[:min(ds.Groups, 100)] {
		rs.bodies["groupMembers"] = append(rs.bodies["groupMembers"], req(qGroupMembers, "GroupMembers", map[string]any{"id": fid(int64(g + 1))}))
	}
	for range 200 {
		rs.bodies["memberships"] = append(rs.bodies["memberships"], req(qMemberships, "ContactMemberships", map[string]any{"id": fid(int64(1 + r.IntN(ds.Contacts)))}))
	}

	// The explained statements use the first page's ids and groups.
	rows, err := db.QueryContext(ctx, "SELECT id FROM contacts ORDER BY name_key LIMIT 100")
	if err != nil {
		return rs, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return rs, err
		}
		rs.explain.pageIDs = append(rs.explain.pageIDs, id)
	}
	rows.Close()
	if len(rs.explain.pageIDs) > 0 {
		grows, err := db.QueryContext(ctx, "SELECT DISTINCT group_id FROM memberships WHERE contact_id IN ("+placeholders(len(rs.explain.pageIDs))+")", rs.explain.pageIDs...)
		if err != nil {
			return rs, err
		}
		for grows.Next() {
			var g int64
			if err := grows.Scan(&g); err != nil {
				grows.Close()
				return rs, err
			}
			rs.explain.groupIDs = append(rs.explain.groupIDs, g)
		}
		grows.Close()
	}
	rs.explain.searchPat = "%" + terms[0] + "%"
	rs.explain.groupID = 1
	rs.explain.contactID = 1
	return rs, nil
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

// measureRead checks that the floor answers what Herald answers, then runs each concurrency level
// against Herald and the floor in turn.
func (b *bench) measureRead(ctx context.Context, run *Run, spec opSpec, heraldURL, floorURL string, bodies [][]byte) (*OpResult, error) {
	o := &OpResult{Op: spec.Name, Description: spec.Description, Read: true, Statements: -1, StatementsMin: -1}
	for i, body := range bodies[:min(3, len(bodies))] {
		var req gqlRequest
		_ = json.Unmarshal(body, &req)
		var fromHerald, fromFloor any
		if _, err := b.client.call(ctx, heraldURL, req, &fromHerald); err != nil {
			return nil, fmt.Errorf("herald: %w", err)
		}
		if _, err := b.client.call(ctx, floorURL, req, &fromFloor); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		if d := firstDiff(fromHerald, fromFloor, "data"); d != "" {
			run.FloorMismatches = append(run.FloorMismatches, fmt.Sprintf("%s request %d: %s", spec.Name, i, d))
		}
	}
	body := func(i int64) []byte { return bodies[int(i%int64(len(bodies)))] }
	for _, conc := range b.levels(spec) {
		h := runCell(ctx, b.client, heraldURL, b.cellLoad(conc), body)
		f := runCell(ctx, b.client, floorURL, b.cellLoad(conc), body)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c := Cell{Concurrency: conc, Herald: measureOf(h)}
		fm := measureOf(f)
		c.Floor = &fm
		if fm.Throughput > 0 {
			r := round(c.Herald.Throughput/fm.Throughput, 3)
			c.Ratio = &r
		}
		o.addStatements(h)
		o.Cells = append(o.Cells, c)
		b.logf("%s %s %-13s c=%-2d herald %7.1f req/s p50 %7.1f p95 %7.1f p99 %7.1f ms (%s SQL) | floor %7.1f req/s p95 %7.1f ms | ratio %.2f%s",
			run.Backend, scaleName(run.Scale), spec.Name, conc, c.Herald.Throughput, c.Herald.P50, c.Herald.P95, c.Herald.P99, stmtText(o),
			fm.Throughput, fm.P95, derefOr(c.Ratio, math.NaN()), errText(h, f))
	}
	return o, nil
}

func derefOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
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

// firstDiff describes the first difference between two decoded JSON values, or returns "".
func firstDiff(a, b any, path string) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object vs %T", path, b)
		}
		keys := make([]string, 0, len(av))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if d := firstDiff(av[k], bv[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: list vs %T", path, b)
		}
		if len(av) != len(bv) {
			return fmt.Sprintf("%s: %d items vs %d", path, len(av), len(bv))
		}
		for i := range av {
			if d := firstDiff(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %v vs %v", path, clipAny(a), clipAny(b))
		}
		return ""
	}
}

func clipAny(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// writes measures the mutations on one run. They change the data, so they run after every read.
type writes struct {
	b      *bench
	run    *Run
	db     *sql.DB
	seeder *seeder
	url    string
}

func (w *writes) measure(ctx context.Context, spec opSpec) (*OpResult, error) {
	o := &OpResult{Op: spec.Name, Description: spec.Description, Statements: -1, StatementsMin: -1}
	var err error
	switch spec.Name {
	case "createContact":
		err = w.createContact(ctx, o)
	case "updateContactGroup":
		err = w.updateContactGroup(ctx, o)
	case "batchDelete":
		err = w.batchDelete(ctx, o)
	case "sendAlert":
		err = w.sendAlert(ctx, o)
	default:
		err = fmt.Errorf("no such write operation %q", spec.Name)
	}
	return o, err
}

func (w *writes) record(o *OpResult, conc int, r cellRun) error {
	c := Cell{Concurrency: conc, Herald: measureOf(r)}
	o.addStatements(r)
	o.Cells = append(o.Cells, c)
	w.b.logf("%s %s %-18s c=%-2d herald %7.1f req/s p50 %7.1f p95 %7.1f p99 %7.1f max %7.1f ms (%s SQL, n=%d)%s",
		w.run.Backend, scaleName(w.run.Scale), o.Op, conc, c.Herald.Throughput, c.Herald.P50, c.Herald.P95, c.Herald.P99, c.Herald.Max, stmtText(o), c.Herald.Requests, errText(r))
	if r.Errors > 0 && len(r.Latencies) == 0 {
		return fmt.Errorf("every request failed: %s", r.FirstError)
	}
	if r.Errors > 0 {
		w.run.Errors = append(w.run.Errors, fmt.Sprintf("%s c=%d: %d errors, first: %s", o.Op, conc, r.Errors, r.FirstError))
	}
	return nil
}

func (w *writes) createContact(ctx context.Context, o *OpResult) error {
	groups := w.run.Data.Groups
	body := func(int64) []byte {
		n := w.b.created.Add(1)
		hooks := make([]map[string]any, 3)
		for k, p := range []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark} {
			u := robotURL(w.b.fake.URL, hookTarget{Platform: p, Token: fmt.Sprintf("n%dx%d", n, k)})
			hooks[k] = map[string]any{"url": u, "platform": string(p)}
		}
		gids := []string{fid(n%int64(groups) + 1), fid((n+1)%int64(groups) + 1), fid((n+2)%int64(groups) + 1)}
		input := map[string]any{"name": fmt.Sprintf("Bench New %s %d", w.b.token[:6], n), "phone": "+8613900000000", "webhooks": hooks, "groupIds": gids}
		return gqlRequest{Query: qCreateContact, OperationName: "CreateContact", Variables: map[string]any{"input": input}}.body()
	}
	for _, conc := range w.b.levels(opSpec{}) {
		if err := w.record(o, conc, runCell(ctx, w.b.client, w.url, w.b.cellLoad(conc), body)); err != nil {
			return err
		}
	}
	return nil
}

// updateContactGroup alternates group 1's members between the first and the last 1,000 contacts.
func (w *writes) updateContactGroup(ctx context.Context, o *OpResult) error {
	ids, err := queryIDs(ctx, w.db, "SELECT id FROM contacts ORDER BY id")
	if err != nil {
		return err
	}
	n := min(1000, len(ids))
	sets := [2][]string{toIDs(ids[:n]), toIDs(ids[len(ids)-n:])}
	bodies := [2][]byte{}
	for i, s := range sets {
		bodies[i] = gqlRequest{Query: qUpdateGroup, OperationName: "UpdateGroupMembers", Variables: map[string]any{"id": "1", "ids": s}}.body()
	}
	iters := w.b.opts.writeIterations
	return w.record(o, 1, runCell(ctx, w.b.client, w.url, load{Concurrency: 1, Requests: iters}, func(i int64) []byte { return bodies[i%2] }))
}

// batchDelete deletes 1,000 freshly inserted contacts per iteration; inserting them is not timed.
func (w *writes) batchDelete(ctx context.Context, o *OpResult) error {
	var r cellRun
	r.StmtMin, r.StmtMax = -1, -1
	start := time.Now()
	var untimed time.Duration
	for it := range w.b.opts.writeIterations {
		t0 := time.Now()
		first := int64(50_000_000 + it*1000)
		if err := w.seeder.addContacts(ctx, first, 1000, fmt.Sprintf("Victim %d ", it), w.run.Data.Groups); err != nil {
			return fmt.Errorf("insert contacts to delete: %w", err)
		}
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fid(first + int64(i))
		}
		untimed += time.Since(t0)
		var out struct {
			BatchDeleteContacts struct {
				DeletedIDs []string `json:"deletedIds"`
			} `json:"batchDeleteContacts"`
		}
		t1 := time.Now()
		n, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qBatchDelete, OperationName: "BatchDelete", Variables: map[string]any{"ids": ids}}, &out)
		d := time.Since(t1)
		if err == nil && len(out.BatchDeleteContacts.DeletedIDs) != 1000 {
			err = fmt.Errorf("deleted %d of 1000", len(out.BatchDeleteContacts.DeletedIDs))
		}
		r.add(d, n, err)
	}
	r.Elapsed = time.Since(start) - untimed
	return w.record(o, 1, r)
}

// add records one timed request into a hand-run cell.
func (r *cellRun) add(d time.Duration, stmts int64, err error) {
	if err != nil {
		r.Errors++
		if r.FirstError == "" {
			r.FirstError = err.Error()
		}
		return
	}
	r.Latencies = append(r.Latencies, d)
	if stmts >= 0 {
		if r.StmtMin < 0 || stmts < r.StmtMin {
			r.StmtMin = stmts
		}
		r.StmtMax = max(r.StmtMax, stmts)
	}
}

// sendAlert makes a group of the first 1,000 contacts, registers their robots with the fake
// platforms, then sends alerts one at a time, timing the mutation and, separately, the delivery.
func (w *writes) sendAlert(ctx context.Context, o *OpResult) error {
	n := min(1000, w.run.Data.Contacts)
	rows, err := w.db.QueryContext(ctx, "SELECT contact_id, position, url FROM webhooks WHERE contact_id <= ?", n)
	if err != nil {
		return err
	}
	robots := 0
	for rows.Next() {
		var cid int64
		var pos int
		var u string
		if err := rows.Scan(&cid, &pos, &u); err != nil {
			rows.Close()
			return err
		}
		t := hookFor(cid, pos)
		if robotURL(w.b.fake.URL, t) != u {
			rows.Close()
			return fmt.Errorf("contact %d's webhook %d is not the seeded robot URL", cid, pos)
		}
		w.b.fake.AddRobot(fakeplatform.Robot{Platform: t.Platform, Token: t.Token, Secret: t.Secret})
		robots++
	}
	rows.Close()
	members := make([]int64, n)
	for i := range members {
		members[i] = int64(i + 1)
	}
	gid := int64(w.run.Data.Groups + 1)
	if err := w.seeder.addGroup(ctx, gid, "Bench Alert Group "+randomHex(3), members); err != nil {
		return fmt.Errorf("create the alert group: %w", err)
	}
	var r cellRun
	r.StmtMin, r.StmtMax = -1, -1
	var timed time.Duration
	for i := range w.b.opts.alerts {
		reqs0, rej0 := w.b.fake.Requests(), sumCodes(w.b.fake.Rejected(""))
		var out struct {
			SendAlert struct{ ID, Status string } `json:"sendAlert"`
		}
		t0 := time.Now()
		stmts, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qSendAlert, OperationName: "SendAlert",
			Variables: map[string]any{"group": fid(gid), "title": fmt.Sprintf("herald-bench alert %d", i)}}, &out)
		d := time.Since(t0)
		timed += d
		r.add(d, stmts, err)
		if err != nil {
			continue
		}
		status, err := w.waitDelivered(ctx, out.SendAlert.ID, 3*time.Minute)
		if err != nil {
			return err
		}
		ad := AlertDelivery{AlertID: out.SendAlert.ID, Status: status, Seconds: round(time.Since(t0).Seconds(), 2),
			Requests: w.b.fake.Requests() - reqs0, Rejected: sumCodes(w.b.fake.Rejected("")) - rej0, Recipients: n}
		w.run.Deliveries = append(w.run.Deliveries, ad)
		w.b.logf("%s %s sendAlert %s: %s after %.2f s, %d platform requests (%d robots), %d rejected",
			w.run.Backend, scaleName(w.run.Scale), ad.AlertID, ad.Status, ad.Seconds, ad.Requests, robots, ad.Rejected)
	}
	r.Elapsed = timed
	return w.record(o, 1, r)
}

func sumCodes(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// waitDelivered polls the alert until it leaves PENDING.
func (w *writes) waitDelivered(ctx context.Context, id string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		var out struct {
			Alert struct{ Status string } `json:"alert"`
		}
		if _, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qAlertStatus, OperationName: "AlertStatus", Variables: map[string]any{"id": id}}, &out); err != nil {
			return "", err
		}
		if out.Alert.Status != "PENDING" {
			return out.Alert.Status, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("alert %s still PENDING after %s", id, limit)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func queryIDs(ctx context.Context, db *sql.DB, q string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func toIDs(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fid(id)
	}
	return out
}

var errCI = errors.New("statement counts exceed the record")
