// Command herald-bench measures Herald's GraphQL API the way a user meets it: it builds the server,
// runs it as a separate process against a freshly seeded MariaDB or SQLite database, drives it over
// HTTP with concurrent clients, and puts every read beside a raw-SQL floor (hand-written
// database/sql code answering the same requests with the same JSON, over HTTP too) so that each read
// figure is also a ratio Herald / floor.
//
// For each backend, scale and history it seeds N contacts (1-3 webhooks each, in 1-5 of N/100
// groups) and H stored deliveries (-history: finished alerts of ~10 deliveries each, one of 1,000,
// with their attempts), then measures the nested page (each group with its count and first 10
// members), a deep page (cursor 90% down the list), name search, a group with its first 50 members,
// a contact's memberships, the alert history's first page, the alert of 1,000 deliveries,
// createContact, updateContactGroup with 1,000 members, batchDeleteContacts of 1,000 ids, sendAlert
// to a group of 1,000 contacts (delivered to an in-process fake of DingTalk, WeCom and Lark) and
// Alertmanager notifications with the dispatcher's claim latency, and sendAlert of one alert to one
// robot at each concurrency (what a scheduler sends). For each it records SQL
// statements per request (from extensions.sqlStatements; each paged read also at page sizes 10 and
// 100), throughput and p50/p95/p99 latency at each concurrency, and the server's peak RSS. It writes
// report.json, report.md and latency.svg under -out, with the EXPLAIN of the main reads and the
// brief's targets marked met or missed.
//
// Usage, from the repository root:
//
//	go run ./cmd/herald-bench                                  # MariaDB, 10k contacts (~5 min)
//	go run ./cmd/herald-bench -backends mysql,sqlite -scales 1k,10k
//	go run ./cmd/herald-bench -scales 1k,10k,100k -ops page,deepPage,search
//	go run ./cmd/herald-bench -history 10k,1M -ops alertsPage,alertDeliveries,inbound -c 1,8
//	go run ./cmd/herald-bench -ci                              # statement counts vs statements.json
//	go run ./cmd/herald-bench -ci -record                      # rewrite statements.json
//	go run ./cmd/herald-bench -db-params interpolateParams=true  # try a driver setting
//
// -ci runs both backends at 1k with short cells at concurrency 1 and 4, compares each operation's SQL statement count with
// cmd/herald-bench/statements.json, prints one summary line and exits 1 when a count grew or a paged
// read's count depends on its page size. Timings are reported, never asserted. Run herald-bench -h for every flag.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

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
	rep.Settings = Settings{Backends: opts.backends, Scales: opts.scales, Histories: opts.histories, Concurrency: opts.levels, Duration: opts.duration.String(),
		Requests: opts.requests, WriteIterations: opts.writeIterations, Alerts: opts.alerts, DBParams: opts.dbParams, ServerEnv: opts.serverEnv, CI: opts.ci}
	for _, o := range ops {
		rep.Settings.Ops = append(rep.Settings.Ops, o.Name)
	}
	for _, backend := range opts.backends {
		if backend == "mysql" && rep.Host.MariaDB == "" {
			rep.Host.MariaDB = mysqlVersion(ctx, opts.mysqlDSN)
		}
		for _, scale := range opts.scales {
			for _, history := range opts.histories {
				r, err := b.runScale(ctx, backend, scale, history)
				if err != nil {
					return fmt.Errorf("%s at %s contacts and %s stored deliveries: %w", backend, scaleName(scale), scaleName(history), err)
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
