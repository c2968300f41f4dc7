package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ptr(f float64) *float64 { return &f }

func sampleRuns() []*Run {
	mk := func(scale int, pageP95 float64) *Run {
		return &Run{Backend: "mysql", Scale: scale, Data: dataset{Contacts: scale, Groups: scale / 100},
			SizeStatements: map[string]map[string]int64{"page": {"10": 5, "100": 5}}, PeakRSSReadMiB: 120, PeakRSSEndMiB: 130,
			Ops: []*OpResult{
				{Op: "page", Read: true, Statements: 5, StatementsMin: 5, Cells: []Cell{
					{Concurrency: 1, Herald: Measure{Requests: 10, Throughput: 20, Latency: Latency{P50: 10, P95: pageP95, P99: 30}},
						Floor: &Measure{Requests: 20, Throughput: 50, Latency: Latency{P50: 5, P95: 8, P99: 9}}, Ratio: ptr(0.4)},
					{Concurrency: 8, Herald: Measure{Requests: 40, Throughput: 30, Latency: Latency{P50: 15, P95: 22, P99: 24}},
						Floor: &Measure{Requests: 80, Throughput: 60, Latency: Latency{P50: 7, P95: 9, P99: 10}}, Ratio: ptr(0.5)},
				}},
				{Op: "batchDelete", Statements: 3, StatementsMin: 3, Cells: []Cell{
					{Concurrency: 1, Herald: Measure{Requests: 10, Throughput: 3, Latency: Latency{P50: 300, P95: 600, P99: 650}}},
				}},
			},
			Explain: []Explain{{Name: "page", SQL: "SELECT 1", Columns: []string{"id", "Extra"}, Rows: [][]string{{"1", "Using index"}}}},
		}
	}
	return []*Run{mk(1000, 12), mk(10_000, 20), mk(100_000, 30)}
}

func TestTargetsAreJudgedOnMariaDBAt10k(t *testing.T) {
	byName := map[string]Target{}
	for _, tg := range evaluateTargets(sampleRuns()) {
		byName[tg.Name] = tg
	}
	for name, want := range map[string]string{
		"SQL statements per request":         statusMet,
		"throughput ratio: page":             statusMissed, // 0.4 at concurrency 1
		"nested page latency":                statusMet,    // p99 24 < 25 at concurrency 8
		"growth 1k→100k: page":               statusMissed, // 12 → 30 ms is 2.5×
		"growth 1k→100k: search":             statusMissing,
		"batchDelete 1,000":                  statusMissed,
		"updateContactGroup 1,000 members":   statusMissing,
		"server peak RSS":                    statusMissing, // only the page ran, and only up to c=8
		"history 10k → 1M stored deliveries": statusMissing,
		"throughput ratio: alertsPage":       statusMissing,
		"throughput ratio: alertDeliveries":  statusMissing,
		"throughput ratio: groupMembers":     statusMissing,
		"createContact":                      statusMissing,
		"throughput ratio: memberships":      statusMissing,
		"growth 1k→100k: deepPage":           statusMissing,
		"throughput ratio: deepPage":         statusMissing,
		"throughput ratio: search":           statusMissing,
	} {
		if got := byName[name].Status; got != want {
			t.Errorf("%s: %s (%s), want %s", name, got, byName[name].Measured, want)
		}
	}
	if m := byName["growth 1k→100k: page"].Measured; !strings.Contains(m, "2.50×") {
		t.Errorf("growth measured = %q", m)
	}
}

func TestPeakRSSIsJudgedOnTheFullReadMixAtC32(t *testing.T) {
	run := &Run{Backend: "mysql", Scale: 10_000, History: 10_000, PeakRSSReadMiB: 120, PeakRSSEndMiB: 130}
	for _, spec := range allOps {
		if spec.Read {
			run.Ops = append(run.Ops, &OpResult{Op: spec.Name, Read: true, Cells: []Cell{{Concurrency: 1}, {Concurrency: 32}}})
		}
	}
	got := func() Target {
		for _, tg := range evaluateTargets([]*Run{run}) {
			if tg.Name == "server peak RSS" {
				return tg
			}
		}
		t.Fatal("no peak RSS target")
		return Target{}
	}
	if tg := got(); tg.Status != statusMet || !strings.Contains(tg.Measured, "126 MB") {
		t.Fatalf("full mix: %+v", tg)
	}
	run.Ops[len(run.Ops)-1].Cells = run.Ops[len(run.Ops)-1].Cells[:1] // the last read did not run at c=32
	if tg := got(); tg.Status != statusMissing || !strings.Contains(tg.Measured, "alertDeliveries") {
		t.Fatalf("partial mix: %+v", tg)
	}
}

func TestHistoryTargetComparesClaimsAndTheAlertsPage(t *testing.T) {
	mk := func(history int, alertsP95, claim float64) *Run {
		return &Run{Backend: "mysql", Scale: 10_000, History: history, Ops: []*OpResult{
			{Op: "alertsPage", Read: true, Cells: []Cell{{Concurrency: 1, Herald: Measure{Requests: 10, Latency: Latency{P95: alertsP95}}}}},
			{Op: "inbound", Cells: []Cell{{Concurrency: 1, Herald: Measure{Requests: 10}, ClaimMeanMs: ptr(claim)}}},
		}}
	}
	target := func(runs ...*Run) Target {
		for _, tg := range evaluateTargets(runs) {
			if strings.HasPrefix(tg.Name, "history") {
				return tg
			}
		}
		t.Fatal("no history target")
		return Target{}
	}
	if tg := target(mk(10_000, 4, 2), mk(1_000_000, 6, 3.5)); tg.Status != statusMet || !strings.Contains(tg.Measured, "1.50×") {
		t.Fatalf("%+v", tg)
	}
	if tg := target(mk(10_000, 4, 2), mk(1_000_000, 6, 4.5)); tg.Status != statusMissed {
		t.Fatalf("claims 2.25× slower: %+v", tg)
	}
	if tg := target(mk(10_000, 4, 2)); tg.Status != statusMissing {
		t.Fatalf("one history: %+v", tg)
	}
}

func TestParseHistoryTakesKAndM(t *testing.T) {
	for in, want := range map[string]int{"10k": 10_000, "1M": 1_000_000, "2500": 2500} {
		if got, err := parseHistory(in); err != nil || got != want {
			t.Errorf("parseHistory(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"999", "20M", "x", ""} {
		if _, err := parseHistory(bad); err == nil {
			t.Errorf("parseHistory(%q) passed", bad)
		}
	}
}

func TestWithoutMariaDBAt10kNoTargetIsMet(t *testing.T) {
	runs := sampleRuns()[:1]
	for _, tg := range evaluateTargets(runs) {
		if tg.Status == statusMet && tg.Name != "SQL statements per request" {
			t.Errorf("%s met without MariaDB at 10k", tg.Name)
		}
	}
}

func TestReportWritesJSONMarkdownAndWellFormedSVG(t *testing.T) {
	runs := sampleRuns()
	rep := &Report{StartedAt: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Host: Host{CPUs: 2, GoVersion: "go1.26"},
		Settings: Settings{Duration: "4s", WriteIterations: 10, Alerts: 3}, Runs: runs, Targets: evaluateTargets(runs)}
	dir := t.TempDir()
	if err := rep.write(dir); err != nil {
		t.Fatal(err)
	}
	var back Report
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &back); err != nil || len(back.Runs) != 3 || back.Runs[0].Ops[0].Cells[1].Herald.P99 != 24 {
		t.Fatalf("report.json does not round-trip: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{
		"| page | 5 | 1 | 20.0 | 10.0 | 12.0 | 30.0 |  | 50.0 | 5.00 | 8.00 | 9.00 | 0.40 |",
		"| batchDelete 1,000 | < 500 ms (p95, serial) | p95 600.0 ms (1.2x the limit, n=10) | ❌ missed |",
		"## mysql, 100k contacts",
		"Using index",
		"![p95 latency against scale](latency.svg)",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "latency.svg"))
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	polylines := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("latency.svg is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			polylines++
		}
	}
	if polylines != 2 { // page: Herald and floor
		t.Fatalf("%d polylines, want 2", polylines)
	}
}

func TestChartWithoutReadsSaysSo(t *testing.T) {
	if svg := latencyChart(nil); !strings.Contains(svg, "no read operation") {
		t.Fatalf("svg = %s", svg)
	}
}
