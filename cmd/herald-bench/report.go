package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is everything one run measured; it is written as report.json, report.md and latency.svg.
type Report struct {
	StartedAt  time.Time       `json:"startedAt"`
	FinishedAt time.Time       `json:"finishedAt"`
	Commit     string          `json:"commit,omitempty"`
	Host       Host            `json:"host"`
	Settings   Settings        `json:"settings"`
	Runs       []*Run          `json:"runs"`
	Targets    []Target        `json:"targets"`
	Statements *StatementCheck `json:"statementCheck,omitempty"`
}

// Host describes the machine: every figure is relative to it.
type Host struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"goVersion"`
	MariaDB   string `json:"mariadb,omitempty"`
	// LoadAvg is /proc/loadavg's 1-minute load at the start and the end: other work on the machine
	// moves every timing, so a report says how busy the machine was.
	LoadAvgStart float64 `json:"loadAvgStart"`
	LoadAvgEnd   float64 `json:"loadAvgEnd"`
}

// Settings are the flags that shaped the run.
type Settings struct {
	Backends        []string `json:"backends"`
	Scales          []int    `json:"scales"`
	Histories       []int    `json:"histories"`
	Ops             []string `json:"ops"`
	Concurrency     []int    `json:"concurrency"`
	Duration        string   `json:"cellDuration"`
	Requests        int      `json:"cellRequests,omitempty"`
	WriteIterations int      `json:"writeIterations"`
	Alerts          int      `json:"alerts"`
	DBParams        string   `json:"dbParams,omitempty"`
	ServerEnv       []string `json:"serverEnv,omitempty"`
	CI              bool     `json:"ci"`
}

// Run is one backend at one scale, against one Herald process.
type Run struct {
	Backend string `json:"backend"`
	Scale   int    `json:"scale"`
	// History is the number of stored deliveries seeded beside the contacts (-history).
	History     int     `json:"history"`
	Data        dataset `json:"data"`
	SeedSeconds float64 `json:"seedSeconds"`
	// HistorySeedSeconds is the part of SeedSeconds that wrote the history.
	HistorySeedSeconds float64 `json:"historySeedSeconds"`
	// SizeStatements is the statement count of each paged read by page size ("10", "100"): one
	// unloaded request each, after the read was measured.
	SizeStatements map[string]map[string]int64 `json:"statementsByPageSize,omitempty"`
	PeakRSSReadMiB float64                     `json:"peakRssAfterReadsMiB"`
	PeakRSSEndMiB  float64                     `json:"peakRssAtEndMiB"`
	Ops            []*OpResult                 `json:"ops"`
	Deliveries     []AlertDelivery             `json:"deliveries,omitempty"`
	// FloorMismatches lists where the floor's data differed from Herald's (empty: identical).
	FloorMismatches []string  `json:"floorMismatches,omitempty"`
	Explain         []Explain `json:"explain,omitempty"`
	Errors          []string  `json:"errors,omitempty"`
}

// OpResult is one operation at every concurrency level.
type OpResult struct {
	Op          string `json:"op"`
	Description string `json:"description"`
	Read        bool   `json:"read"`
	// Statements is the most SQL statements any Herald request of this operation ran (-1: unknown).
	Statements    int64  `json:"sqlStatements"`
	StatementsMin int64  `json:"sqlStatementsMin"`
	Cells         []Cell `json:"cells"`
}

// Cell is one operation at one concurrency.
type Cell struct {
	Concurrency int      `json:"concurrency"`
	Herald      Measure  `json:"herald"`
	Floor       *Measure `json:"floor,omitempty"`
	// Ratio is Herald's throughput over the floor's.
	Ratio *float64 `json:"throughputRatio,omitempty"`
	// ClaimMs is the dispatcher's mean claim latency in each quarter of the cell (inbound only).
	ClaimMs []float64 `json:"claimMsByQuarter,omitempty"`
	// ClaimMeanMs is the mean claim latency over the whole cell, from the same samples (inbound only).
	ClaimMeanMs *float64 `json:"claimMeanMs,omitempty"`
}

// Measure is what one side of a cell measured.
type Measure struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"requestsPerSecond"`
	// AvgKB is the mean response size (not measured for hand-timed writes).
	AvgKB float64 `json:"avgResponseKB,omitempty"`
	// SQLMin and SQLMax are the fewest and most statements a request of this cell ran (Herald only).
	SQLMin int64 `json:"sqlStatementsMin,omitempty"`
	SQLMax int64 `json:"sqlStatementsMax,omitempty"`
	Latency
}

// AlertDelivery is how one benchmark alert was delivered to the fake platforms.
type AlertDelivery struct {
	AlertID    string  `json:"alertId"`
	Status     string  `json:"status"`
	Seconds    float64 `json:"secondsToFinalStatus"`
	Requests   int     `json:"platformRequests"`
	Rejected   int     `json:"platformRejections"`
	Recipients int     `json:"contacts"`
}

// Explain is the plan of one of Herald's main read statements.
type Explain struct {
	Name    string     `json:"name"`
	SQL     string     `json:"sql"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	Error   string     `json:"error,omitempty"`
}

// Target is one goal of the brief and whether this run met it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Status   string `json:"status"` // met, missed, not measured
}

func measureOf(r cellRun) Measure {
	m := Measure{Requests: len(r.Latencies), Errors: r.Errors, FirstError: r.FirstError, Seconds: round(r.Elapsed.Seconds(), 3)}
	if r.Elapsed > 0 {
		m.Throughput = round(float64(len(r.Latencies))/r.Elapsed.Seconds(), 2)
	}
	m.Latency = summarize(r.Latencies)
	if len(r.Latencies) > 0 && r.Bytes > 0 {
		m.AvgKB = round(float64(r.Bytes)/float64(len(r.Latencies))/1024, 1)
	}
	if r.StmtMax >= 0 {
		m.SQLMin, m.SQLMax = r.StmtMin, r.StmtMax
	}
	return m
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

// op returns the named operation's result, or nil.
func (r *Run) op(name string) *OpResult {
	for _, o := range r.Ops {
		if o.Op == name {
			return o
		}
	}
	return nil
}

// cell returns the operation's cell at a concurrency, or nil.
func (o *OpResult) cell(c int) *Cell {
	if o == nil {
		return nil
	}
	for i := range o.Cells {
		if o.Cells[i].Concurrency == c {
			return &o.Cells[i]
		}
	}
	return nil
}

// write saves report.json, report.md and latency.svg under dir.
func (r *Report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	r.markdown(&md)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "latency.svg"), []byte(latencyChart(r.Runs)), 0o644)
}

func f1(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func scaleName(n int) string {
	if n >= 1_000_000 && n%1_000_000 == 0 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// serialStatements is the most statements a request ran at the lowest concurrency measured: on an
// unloaded server the count depends on the query alone, while under load per-request dataloaders
// can split a batch. CI compares this one; the report shows both.
func (o *OpResult) serialStatements() int64 {
	if len(o.Cells) == 0 {
		return o.Statements
	}
	lowest := o.Cells[0]
	for _, c := range o.Cells {
		if c.Concurrency < lowest.Concurrency {
			lowest = c
		}
	}
	if lowest.Herald.SQLMax <= 0 { // not counted
		return o.Statements
	}
	return lowest.Herald.SQLMax
}

func stmtText(o *OpResult) string {
	switch {
	case o.Statements < 0:
		return "?"
	case o.Statements == o.StatementsMin:
		return fmt.Sprint(o.Statements)
	default:
		return fmt.Sprintf("%d-%d", o.StatementsMin, o.Statements)
	}
}

// label names the run in logs and headings: backend, contacts and stored deliveries.
func (r *Run) label() string {
	return fmt.Sprintf("%s %s/%s", r.Backend, scaleName(r.Scale), scaleName(r.History))
}

// title is the run's heading in report.md.
func (r *Run) title() string {
	return fmt.Sprintf("%s, %s contacts, %s stored deliveries", r.Backend, scaleName(r.Scale), scaleName(r.History))
}

// markdown renders the report for people: the figures table first, then targets, then detail.
func (r *Report) markdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Herald benchmark\n\n")
	p("%s, %d CPUs, %s", r.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), r.Host.CPUs, r.Host.GoVersion)
	if r.Host.MariaDB != "" {
		p(", MariaDB %s", r.Host.MariaDB)
	}
	p(", load average %.1f at the start and %.1f at the end", r.Host.LoadAvgStart, r.Host.LoadAvgEnd)
	if r.Commit != "" {
		p(", commit %s", r.Commit)
	}
	p(". Cells: %s", r.Settings.Duration)
	if r.Settings.Requests > 0 {
		p(" or %d requests", r.Settings.Requests)
	}
	p(" each; serial writes: %d iterations, %d alerts", r.Settings.WriteIterations, r.Settings.Alerts)
	if r.Settings.DBParams != "" {
		p("; database parameters `%s`", r.Settings.DBParams)
	}
	if len(r.Settings.ServerEnv) > 0 {
		p("; server environment `%s`", strings.Join(r.Settings.ServerEnv, " "))
	}
	p(".\nLatencies in ms, measured by the client over loopback HTTP; ratio = Herald throughput / floor throughput (same requests, same JSON, hand-written SQL).\n\n")

	if len(r.Targets) > 0 {
		p("## Targets\n\n| Target | Goal | Measured | Status |\n|---|---|---|---|\n")
		for _, t := range r.Targets {
			mark := map[string]string{"met": "✅ met", "missed": "❌ missed"}[t.Status]
			if mark == "" {
				mark = t.Status
			}
			p("| %s | %s | %s | %s |\n", t.Name, t.Goal, t.Measured, mark)
		}
		p("\n")
	}
	if r.Statements != nil {
		p("## SQL statement counts against %s\n\n%s\n\n", r.Statements.File, r.Statements.Summary())
		if len(r.Statements.Lines) > 0 {
			p("| Backend | Operation | Recorded | Measured | |\n|---|---|---|---|---|\n")
			for _, l := range r.Statements.Lines {
				p("| %s | %s | %s | %d | %s |\n", l.Backend, l.Op, recordedText(l.Recorded), l.Measured, l.Verdict)
			}
			p("\n")
		}
	}
	if len(r.Runs) > 0 {
		p("## History\n\n")
		p("The alert history's reads and the dispatcher's claims by stored deliveries (-history), at the lowest concurrency measured: p95 of alertsPage and alertDeliveries, and the mean claim latency during inbound.\n\n")
		p("| Backend | Contacts | Stored deliveries | Alerts | History seeded in | alertsPage p95 | alertDeliveries p95 | Claim latency | SQL/req alertsPage, alertDeliveries |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, run := range r.Runs {
			h := run.historyFigures()
			p("| %s | %s | %s | %d | %.1f s | %s | %s | %s | %s, %s |\n", run.Backend, scaleName(run.Scale), scaleName(run.History), run.Data.Alerts,
				run.HistorySeedSeconds, msText(h.alertsP95), msText(h.deliveriesP95), msText(h.claimMs), stmtOf(run.op("alertsPage")), stmtOf(run.op("alertDeliveries")))
		}
		p("\n")
	}
	for _, run := range r.Runs {
		p("## %s\n\n", run.title())
		p("%d contacts, %d webhooks, %d groups, %d memberships; history of %d alerts, %d deliveries (alert %d has %d), %d attempts; seeded in %.1f s (the history in %.1f s). "+
			"Server peak RSS (VmHWM): %.0f MiB after the reads%s, %.0f MiB at the end.\n\n",
			run.Data.Contacts, run.Data.Webhooks, run.Data.Groups, run.Data.Memberships, run.Data.Alerts, run.Data.Deliveries, run.Data.LargeAlert,
			min(largeAlertDeliveries, run.Data.Deliveries), run.Data.Attempts, run.SeedSeconds, run.HistorySeedSeconds, run.PeakRSSReadMiB, readMixText(run), run.PeakRSSEndMiB)
		p("| Operation | SQL/req | c | Herald req/s | p50 | p95 | p99 | KB/resp | Floor req/s | p50 | p95 | p99 | Ratio |\n")
		p("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, o := range run.Ops {
			for i, c := range o.Cells {
				name, stm := "", ""
				if i == 0 {
					name, stm = o.Op, stmtText(o)
				}
				h := c.Herald
				errs := ""
				if h.Errors > 0 {
					errs = fmt.Sprintf(" (%d errors)", h.Errors)
				}
				kb := ""
				if h.AvgKB > 0 {
					kb = f1(h.AvgKB)
				}
				p("| %s | %s | %d | %s%s | %s | %s | %s | %s |", name, stm, c.Concurrency, f1(h.Throughput), errs, f1(h.P50), f1(h.P95), f1(h.P99), kb)
				if c.Floor != nil {
					p(" %s | %s | %s | %s |", f1(c.Floor.Throughput), f1(c.Floor.P50), f1(c.Floor.P95), f1(c.Floor.P99))
				} else {
					p(" | | | |")
				}
				if c.Ratio != nil {
					p(" %.2f |\n", *c.Ratio)
				} else {
					p(" |\n")
				}
			}
		}
		p("\n")
		if len(run.SizeStatements) > 0 {
			var parts []string
			for _, o := range run.Ops {
				if m := run.SizeStatements[o.Op]; m != nil {
					parts = append(parts, fmt.Sprintf("%s 10 → %d, 100 → %d", o.Op, m["10"], m["100"]))
				}
			}
			p("Statements by page size: %s.\n\n", strings.Join(parts, "; "))
		}
		if len(run.Deliveries) > 0 {
			p("| Alert | Contacts | Final status | Seconds to final status | Platform requests | Rejections |\n|---|---|---|---|---|---|\n")
			for _, d := range run.Deliveries {
				p("| %s | %d | %s | %.2f | %d | %d |\n", d.AlertID, d.Recipients, d.Status, d.Seconds, d.Requests, d.Rejected)
			}
			p("\n")
		}
		if len(run.FloorMismatches) > 0 {
			p("**The floor's answers differ from Herald's:**\n\n")
			for _, m := range run.FloorMismatches {
				p("- %s\n", m)
			}
			p("\n")
		} else if hasReads(run) {
			p("The floor's answers were checked equal to Herald's (data decoded and compared).\n\n")
		}
		for _, e := range run.Errors {
			p("- error: %s\n", e)
		}
		if len(run.Explain) > 0 {
			p("<details><summary>EXPLAIN of the main reads (%s)</summary>\n\n", run.label())
			for _, e := range run.Explain {
				p("**%s**\n\n```sql\n%s\n```\n\n", e.Name, e.SQL)
				if e.Error != "" {
					p("error: %s\n\n", e.Error)
					continue
				}
				p("| %s |\n|%s\n", strings.Join(e.Columns, " | "), strings.Repeat("---|", len(e.Columns)))
				for _, row := range e.Rows {
					p("| %s |\n", strings.Join(row, " | "))
				}
				p("\n")
			}
			p("</details>\n\n")
		}
	}
	if len(r.Runs) > 0 {
		p("![p95 latency against scale](latency.svg)\n")
	}
}

// historyNumbers are a run's figures for the history table and target; 0 is not measured.
type historyNumbers struct {
	alertsP95, deliveriesP95, claimMs float64
}

// historyFigures reads the history figures at the lowest concurrency each operation ran at.
func (r *Run) historyFigures() historyNumbers {
	var h historyNumbers
	if c := r.opOrNil("alertsPage").lowest(); c != nil {
		h.alertsP95 = c.Herald.P95
	}
	if c := r.opOrNil("alertDeliveries").lowest(); c != nil {
		h.deliveriesP95 = c.Herald.P95
	}
	if c := r.opOrNil("inbound").lowest(); c != nil && c.ClaimMeanMs != nil {
		h.claimMs = *c.ClaimMeanMs
	}
	return h
}

// lowest is the operation's cell at its lowest concurrency, or nil.
func (o *OpResult) lowest() *Cell {
	if o == nil || len(o.Cells) == 0 {
		return nil
	}
	low := &o.Cells[0]
	for i := range o.Cells {
		if o.Cells[i].Concurrency < low.Concurrency {
			low = &o.Cells[i]
		}
	}
	return low
}

func msText(v float64) string {
	if v <= 0 {
		return "–"
	}
	return f1(v) + " ms"
}

func stmtOf(o *OpResult) string {
	if o == nil {
		return "–"
	}
	return stmtText(o)
}

// readMix is the highest concurrency of the run's reads and the reads that ran at it, before the
// server's peak RSS was read.
func readMix(run *Run) (top int, ops []string) {
	for _, o := range run.Ops {
		if o.Read {
			for _, c := range o.Cells {
				top = max(top, c.Concurrency)
			}
		}
	}
	for _, o := range run.Ops {
		if o.Read && o.cell(top) != nil {
			ops = append(ops, o.Op)
		}
	}
	return top, ops
}

func readMixText(run *Run) string {
	top, ops := readMix(run)
	if len(ops) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d reads up to c=%d: %s)", len(ops), top, strings.Join(ops, ", "))
}

func hasReads(run *Run) bool {
	for _, o := range run.Ops {
		if o.Read {
			return true
		}
	}
	return false
}
