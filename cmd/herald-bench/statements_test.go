package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func runWith(backend string, counts map[string][2]int64) *Run {
	r := &Run{Backend: backend, Scale: 1000}
	for op, c := range counts { // c[0] at concurrency 1, c[1] at concurrency 4
		r.Ops = append(r.Ops, &OpResult{Op: op, Statements: max(c[0], c[1]), StatementsMin: min(c[0], c[1]), Cells: []Cell{
			{Concurrency: 1, Herald: Measure{SQLMin: c[0], SQLMax: c[0]}},
			{Concurrency: 4, Herald: Measure{SQLMin: c[1], SQLMax: c[1]}},
		}})
	}
	return r
}

func TestStatementCountAboveTheRecordFails(t *testing.T) {
	rec := statementFile{Statements: map[string]map[string]int64{"mysql": {"page": 5, "search": 3}}}
	c := compareStatements("statements.json", rec, []*Run{runWith("mysql", map[string][2]int64{"page": {6, 6}, "search": {3, 3}})})
	if !c.Failed {
		t.Fatal("a count above the record passed")
	}
	if s := c.Summary(); !strings.HasPrefix(s, "FAIL: 1 of 2") || !strings.Contains(s, "mysql/page 6>5") {
		t.Fatalf("summary = %q", s)
	}
}

func TestStatementCountAtOrBelowTheRecordPasses(t *testing.T) {
	rec := statementFile{Statements: map[string]map[string]int64{"sqlite": {"page": 5, "search": 4}}}
	c := compareStatements("statements.json", rec, []*Run{runWith("sqlite", map[string][2]int64{"page": {5, 5}, "search": {3, 3}})})
	if c.Failed {
		t.Fatalf("counts within the record failed: %+v", c.Lines)
	}
	if s := c.Summary(); !strings.HasPrefix(s, "OK: 2") || !strings.Contains(s, "sqlite/search 3<4") {
		t.Fatalf("summary = %q", s)
	}
}

func TestAnUnrecordedOperationFails(t *testing.T) {
	c := compareStatements("statements.json", statementFile{}, []*Run{runWith("mysql", map[string][2]int64{"page": {5, 5}})})
	if !c.Failed || !strings.Contains(c.Lines[0].Verdict, "not recorded") {
		t.Fatalf("lines = %+v", c.Lines)
	}
}

func TestCIComparesTheUnloadedCountAndShowsTheLoadedOne(t *testing.T) {
	// Under load a per-request dataloader may split a batch: the count at the lowest concurrency is
	// the one held to the record, and the higher one is reported beside it.
	rec := statementFile{Statements: map[string]map[string]int64{"mysql": {"memberships": 4}}}
	c := compareStatements("statements.json", rec, []*Run{runWith("mysql", map[string][2]int64{"memberships": {4, 6}})})
	if c.Failed || !strings.Contains(c.Lines[0].Verdict, "up to 6") {
		t.Fatalf("lines = %+v", c.Lines)
	}
}

func TestRecordedStatementsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "statements.json")
	f := recordStatements([]*Run{runWith("mysql", map[string][2]int64{"page": {5, 7}}), runWith("sqlite", map[string][2]int64{"page": {5, 5}})})
	if err := saveStatements(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := loadStatements(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Statements["mysql"]["page"] != 5 || got.Statements["sqlite"]["page"] != 5 || got.Scale != 1000 {
		t.Fatalf("loaded %+v", got)
	}
	if missing, err := loadStatements(filepath.Join(t.TempDir(), "none.json")); err != nil || len(missing.Statements) != 0 {
		t.Fatalf("a missing file: %+v, %v", missing, err)
	}
}

func TestAStatementCountThatGrowsWithThePageSizeFails(t *testing.T) {
	rec := statementFile{Statements: map[string]map[string]int64{"mysql": {"alertsPage": 3}}}
	r := runWith("mysql", map[string][2]int64{"alertsPage": {3, 3}})
	r.SizeStatements = map[string]map[string]int64{"alertsPage": {"10": 3, "100": 12}}
	c := compareStatements("statements.json", rec, []*Run{r})
	if !c.Failed || !strings.Contains(c.Lines[0].Verdict, "page size (3 at 10, 12 at 100)") {
		t.Fatalf("lines = %+v", c.Lines)
	}
}
