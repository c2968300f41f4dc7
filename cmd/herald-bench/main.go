// Command herald-bench measures Herald's GraphQL API the way a user meets it: it builds the server,
// runs it as a separate process against a freshly seeded MariaDB or SQLite database, drives it over
// HTTP with concurrent clients, and puts every read beside a raw-SQL floor (hand-written
// database/sql code answering the same requests with the same JSON, over HTTP too) so that each read
// figure is also a ratio Herald / floor.
//
// For each backend and scale it seeds N contacts (1-3 webhooks each, in 1-5 of N/100 groups), then
// measures the nested page, a deep page (cursor 90% down the list), name search, a group with all
// its members, a contact's memberships, createContact, updateContactGroup with 1,000 members,
// batchDeleteContacts of 1,000 ids and sendAlert to a group of 1,000 contacts (delivered to an
// in-process fake of DingTalk, WeCom and Lark). For each it records SQL statements per request
// (from extensions.sqlStatements), throughput and p50/p95/p99 latency at each concurrency, and the
// server's peak RSS. It writes report.json, report.md and latency.svg under -out, with the EXPLAIN
// of the main reads and the brief's targets marked met or missed.
//
// Usage, from the repository root:
//
//	go run ./cmd/herald-bench                                  # MariaDB, 10k contacts (~5 min)
//	go run ./cmd/herald-bench -backends mysql,sqlite -scales 1k,10k
//	go run ./cmd/herald-bench -scales 1k,10k,100k -ops page,deepPage,search
//	go run ./cmd/herald-bench -ci                              # statement counts vs statements.json
//	go run ./cmd/herald-bench -ci -record                      # rewrite statements.json
//	go run ./cmd/herald-bench -db-params interpolateParams=true  # try a driver setting
//
// -ci runs both backends at 1k with short cells at concurrency 1 and 4, compares each operation's SQL statement count with
// cmd/herald-bench/statements.json, prints one summary line and exits 1 when a count grew. Timings
// are reported, never asserted. Run herald-bench -h for every flag.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"github.com/heraldhq/herald/secrets"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// options are the parsed flags.
type options struct {
	backends        []string
	scales          []int
	ops             string
	levels          []int
	duration        time.Duration
	requests        int
	writeIterations int
	alerts          int
	out             string
	mysqlDSN        string
	dbParams        string
	serverEnv       []string
	keep            bool
	ci              bool
	record          bool
	statementsPath  string
	repo            string
	heraldBin       string
	seed            uint64
	quiet           bool
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errCI):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "herald-bench:", err)
		os.Exit(2)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var serverEnv listFlag
	backends := fs.String("backends", "mysql", "comma-separated backends: mysql (MariaDB), sqlite")
	scales := fs.String("scales", "10k", "comma-separated data-set sizes in contacts: 1k, 10k, 100k or any number")
	levels := fs.String("c", "1,8,32", "comma-separated concurrency levels (serial writes always run at 1)")
	fs.StringVar(&o.ops, "ops", "", "comma-separated operations (default all): "+strings.Join(opNames(), ", "))
	fs.DurationVar(&o.duration, "duration", 4*time.Second, "how long each cell (operation × concurrency × Herald or floor) runs")
	fs.IntVar(&o.requests, "requests", 0, "when > 0, a fixed number of requests per cell instead of -duration")
	fs.IntVar(&o.writeIterations, "write-iterations", 10, "iterations of updateContactGroup and batchDelete")
	fs.IntVar(&o.alerts, "alerts", 3, "sendAlert iterations; each waits for its delivery before the next")
	fs.StringVar(&o.out, "out", "bench-out", "directory for report.json, report.md, latency.svg and the server logs")
	fs.StringVar(&o.mysqlDSN, "mysql", "root@tcp(127.0.0.1:3306)/", "MariaDB/MySQL server (Go driver DSN); a herald_bench_<random> database is created on it and dropped")
	fs.StringVar(&o.dbParams, "db-params", "", "extra query parameters of the MariaDB URL given to Herald and the floor, e.g. interpolateParams=true")
	fs.Var(&serverEnv, "server-env", "KEY=VALUE added to Herald's environment, e.g. HERALD_DELIVERY_WORKERS=64 (repeatable)")
	fs.BoolVar(&o.keep, "keep", false, "keep the MariaDB database and SQLite file afterwards")
	fs.BoolVar(&o.ci, "ci", false, "CI mode: both backends at 1k, short cells; fail when an SQL statement count exceeds -statements")
	fs.BoolVar(&o.record, "record", false, "with -ci: write the measured counts to -statements instead of comparing")
	fs.StringVar(&o.statementsPath, "statements", "", "recorded statement counts (default <repo>/cmd/herald-bench/statements.json)")
	fs.StringVar(&o.repo, "repo", "", "repository root to build Herald from (default: found from the working directory)")
	fs.StringVar(&o.heraldBin, "herald", "", "a prebuilt Herald binary to run instead of building one")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the data set's pseudo-random choices")
	fs.BoolVar(&o.quiet, "q", false, "no progress lines on stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "herald-bench measures Herald against a raw-SQL floor on MariaDB and SQLite.\n\nUsage: go run ./cmd/herald-bench [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.record && !o.ci {
		o.ci = true
	}
	if o.ci {
		// The CI configuration; flags given explicitly still win.
		if !set["backends"] {
			*backends = "mysql,sqlite"
		}
		if !set["scales"] {
			*scales = "1k"
		}
		if !set["duration"] {
			o.duration = 300 * time.Millisecond
		}
		if !set["c"] {
			*levels = "1,4" // enough to run the loaders concurrently; 32 nested pages at once take minutes here
		}
		if !set["write-iterations"] {
			o.writeIterations = 2
		}
		if !set["alerts"] {
			o.alerts = 1
		}
		if !set["out"] {
			o.out = filepath.Join("bench-out", "ci")
		}
	}
	for _, b := range splitList(*backends) {
		if b != "mysql" && b != "sqlite" {
			return o, fmt.Errorf("-backends: unknown backend %q: mysql or sqlite", b)
		}
		o.backends = append(o.backends, b)
	}
	for _, s := range splitList(*scales) {
		n, err := parseScale(s)
		if err != nil {
			return o, fmt.Errorf("-scales: %w", err)
		}
		o.scales = append(o.scales, n)
	}
	for _, s := range splitList(*levels) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 512 {
			return o, fmt.Errorf("-c: %q is not a concurrency from 1 to 512", s)
		}
		o.levels = append(o.levels, n)
	}
	if len(o.backends) == 0 || len(o.scales) == 0 || len(o.levels) == 0 {
		return o, errors.New("-backends, -scales and -c must not be empty")
	}
	if o.duration <= 0 && o.requests <= 0 {
		return o, errors.New("-duration must be positive unless -requests is set")
	}
	if o.writeIterations < 1 || o.alerts < 0 {
		return o, errors.New("-write-iterations must be at least 1 and -alerts not negative")
	}
	for _, kv := range serverEnv {
		if !strings.HasPrefix(kv, "HERALD_") || !strings.Contains(kv, "=") {
			return o, fmt.Errorf("-server-env %q: want HERALD_NAME=VALUE", kv)
		}
	}
	o.serverEnv = serverEnv
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseScale reads "10k", "100K" or "2500".
func parseScale(s string) (int, error) {
	mult := 1
	if t, ok := strings.CutSuffix(strings.ToLower(s), "k"); ok {
		s, mult = t, 1000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n*mult < 100 || n*mult > 10_000_000 {
		return 0, fmt.Errorf("%q is not a number of contacts from 100 to 10M (e.g. 10k)", s)
	}
	return n * mult, nil
}

// findRepo walks up from dir to the directory whose go.mod is Herald's.
func findRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/heraldhq/herald\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Herald go.mod above %s; run from the repository or give -repo", dir)
		}
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.repo == "" {
		wd, _ := os.Getwd()
		if opts.repo, err = findRepo(wd); err != nil {
			return err
		}
	}
	if opts.statementsPath == "" {
		opts.statementsPath = filepath.Join(opts.repo, "cmd", "herald-bench", "statements.json")
	}
	if !filepath.IsAbs(opts.out) {
		opts.out = filepath.Join(opts.repo, opts.out)
	}
	if err := os.MkdirAll(opts.out, 0o755); err != nil {
		return err
	}
	ops, err := selectOps(opts.ops)
	if err != nil {
		return fmt.Errorf("-ops: %w", err)
	}
	key, err := secrets.GenerateKey()
	if err != nil {
		return err
	}
	keyring, err := secrets.FromBase64(key)
	if err != nil {
		return err
	}
	b := &bench{opts: opts, ops: ops, token: randomHex(16), secretKey: key, keyring: keyring}
	b.logf = func(format string, a ...any) {
		if !opts.quiet {
			fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
		}
	}
	b.client = newClient(b.token)
	if b.tmp, err = os.MkdirTemp("", "herald-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)

	b.heraldBin = opts.heraldBin
	if b.heraldBin == "" {
		b.logf("building herald from %s", opts.repo)
		if b.heraldBin, err = buildHerald(ctx, opts.repo, b.tmp); err != nil {
			return err
		}
	}
	b.fake = fakeplatform.New()
	b.fake.DisableRateLimits = true
	if err := b.fake.Start(); err != nil {
		return err
	}
	defer b.fake.Close()

	commit := gitCommit(opts.repo)
	if opts.heraldBin != "" {
		commit = "prebuilt " + opts.heraldBin // the tree's commit says nothing about it
	}
	rep := &Report{StartedAt: time.Now().UTC(), Commit: commit, Host: Host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvgStart: loadAverage()}}
	rep.Settings = Settings{Backends: opts.backends, Scales: opts.scales, Concurrency: opts.levels, Duration: opts.duration.String(),
		Requests: opts.requests, WriteIterations: opts.writeIterations, Alerts: opts.alerts, DBParams: opts.dbParams, ServerEnv: opts.serverEnv, CI: opts.ci}
	for _, o := range ops {
		rep.Settings.Ops = append(rep.Settings.Ops, o.Name)
	}
	for _, backend := range opts.backends {
		if backend == "mysql" && rep.Host.MariaDB == "" {
			rep.Host.MariaDB = mysqlVersion(ctx, opts.mysqlDSN)
		}
		for _, scale := range opts.scales {
			r, err := b.runScale(ctx, backend, scale)
			if err != nil {
				return fmt.Errorf("%s at %s: %w", backend, scaleName(scale), err)
			}
			rep.Runs = append(rep.Runs, r)
			// Written after every run, so an interrupted long run keeps what it measured.
			rep.FinishedAt = time.Now().UTC()
			rep.Host.LoadAvgEnd = loadAverage()
			rep.Targets = evaluateTargets(rep.Runs)
			if err := rep.write(opts.out); err != nil {
				return err
			}
		}
	}

	var failed bool
	if opts.ci {
		if opts.record {
			f := recordStatements(rep.Runs)
			if err := saveStatements(opts.statementsPath, f); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "herald-bench: recorded %d SQL statement counts in %s\n", countStatements(f), opts.statementsPath)
		} else {
			rec, err := loadStatements(opts.statementsPath)
			if err != nil {
				return err
			}
			rep.Statements = compareStatements(relTo(opts.repo, opts.statementsPath), rec, rep.Runs)
			failed = rep.Statements.Failed
		}
	}
	if err := rep.write(opts.out); err != nil {
		return err
	}
	if opts.ci && rep.Statements != nil {
		errs := ""
		if n := requestErrors(rep.Runs); n > 0 {
			errs = fmt.Sprintf("; %d requests failed (not a CI failure; see the report)", n)
		}
		fmt.Fprintf(stdout, "herald-bench ci: %s%s (report: %s)\n", rep.Statements.Summary(), errs, filepath.Join(relTo(opts.repo, opts.out), "report.md"))
	} else if !opts.ci {
		met, missed := 0, 0
		for _, t := range rep.Targets {
			switch t.Status {
			case statusMet:
				met++
			case statusMissed:
				missed++
			}
		}
		fmt.Fprintf(stdout, "herald-bench: %d targets met, %d missed; report: %s\n", met, missed, filepath.Join(relTo(opts.repo, opts.out), "report.md"))
	}
	if failed {
		return errCI
	}
	return nil
}

func requestErrors(runs []*Run) int {
	n := 0
	for _, r := range runs {
		for _, o := range r.Ops {
			for _, c := range o.Cells {
				n += c.Herald.Errors
				if c.Floor != nil {
					n += c.Floor.Errors
				}
			}
		}
	}
	return n
}

func countStatements(f statementFile) int {
	n := 0
	for _, m := range f.Statements {
		n += len(m)
	}
	return n
}

func relTo(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func gitCommit(repo string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", repo, "status", "--porcelain").Output(); err == nil && len(st) > 0 {
		c += "+dirty"
	}
	return c
}

func mysqlVersion(ctx context.Context, dsn string) string {
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return ""
	}
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return ""
	}
	defer db.Close()
	var v string
	_ = db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v)
	return v
}
