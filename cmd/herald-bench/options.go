package main

// The command line: flags, their defaults and how lists and scales are written.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options are the parsed flags.
type options struct {
	backends        []string
	scales          []int
	histories       []int
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

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var serverEnv listFlag
	backends := fs.String("backends", "mysql", "comma-separated backends: mysql (MariaDB), sqlite")
	scales := fs.String("scales", "10k", "comma-separated data-set sizes in contacts: 1k, 10k, 100k or any number")
	histories := fs.String("history", "10k", "comma-separated numbers of stored deliveries (finished alert history, with attempts), seeded beside the contacts: 1k to 10M, e.g. 10k,1M; each is a run of its own")
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
	for _, s := range splitList(*histories) {
		n, err := parseHistory(s)
		if err != nil {
			return o, fmt.Errorf("-history: %w", err)
		}
		o.histories = append(o.histories, n)
	}
	for _, s := range splitList(*levels) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 512 {
			return o, fmt.Errorf("-c: %q is not a concurrency from 1 to 512", s)
		}
		o.levels = append(o.levels, n)
	}
	if len(o.backends) == 0 || len(o.scales) == 0 || len(o.histories) == 0 || len(o.levels) == 0 {
		return o, errors.New("-backends, -scales, -history and -c must not be empty")
	}
	if o.duration <= 0 && o.requests <= 0 {
		return o, errors.New("-duration must be positive unless -requests is set")
	}
	if o.writeIterations < 1 || o.alerts < 0 {
		return o, errors.New("-write-iterations must be at least 1 and -alerts not negative")
	}
	for _, kv := range serverEnv {
		// Go's runtime settings too (GOGC, GOMEMLIMIT, GOMAXPROCS), to measure their effect.
		if !(strings.HasPrefix(kv, "HERALD_") || strings.HasPrefix(kv, "GO")) || !strings.Contains(kv, "=") {
			return o, fmt.Errorf("-server-env %q: want HERALD_NAME=VALUE or a Go runtime setting (GOGC=...)", kv)
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

// parseScale reads "10k", "100K", "1M" or "2500".
func parseScale(s string) (int, error) {
	n, err := parseCount(s)
	if err != nil || n < 100 || n > 10_000_000 {
		return 0, fmt.Errorf("%q is not a number of contacts from 100 to 10M (e.g. 10k)", s)
	}
	return n, nil
}

// parseHistory reads a number of stored deliveries as parseScale reads contacts: at least the
// 1,000 of the one large alert that alertDeliveries reads.
func parseHistory(s string) (int, error) {
	n, err := parseCount(s)
	if err != nil || n < minHistory || n > 10_000_000 {
		return 0, fmt.Errorf("%q is not a number of stored deliveries from 1k to 10M (e.g. 100k)", s)
	}
	return n, nil
}

// parseCount reads a count with an optional k or M suffix.
func parseCount(s string) (int, error) {
	mult := 1
	ls := strings.ToLower(s)
	if t, ok := strings.CutSuffix(ls, "k"); ok {
		ls, mult = t, 1000
	} else if t, ok := strings.CutSuffix(ls, "m"); ok {
		ls, mult = t, 1_000_000
	}
	n, err := strconv.Atoi(ls)
	if err != nil || n < 0 || n > 10_000_000 {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return n * mult, nil
}
