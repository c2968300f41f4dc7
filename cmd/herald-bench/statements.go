package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// statementFile is cmd/herald-bench/statements.json: the SQL statement count of every operation on
// every backend, recorded with -ci -record. CI fails when a count grows; a count that shrinks is
// reported so that the improvement can be locked in by recording again.
type statementFile struct {
	Comment    string                      `json:"comment"`
	Scale      int                         `json:"scale"`
	Statements map[string]map[string]int64 `json:"statements"` // backend → operation → count
}

// StatementCheck is the comparison of a run's counts with the recorded ones.
type StatementCheck struct {
	File   string          `json:"file"`
	Lines  []StatementLine `json:"lines"`
	Failed bool            `json:"failed"`
}

// StatementLine is one operation on one backend.
type StatementLine struct {
	Backend  string `json:"backend"`
	Op       string `json:"op"`
	Recorded *int64 `json:"recorded"`
	Measured int64  `json:"measured"`
	Verdict  string `json:"verdict"`
}

func loadStatements(path string) (statementFile, error) {
	var f statementFile
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return statementFile{Statements: map[string]map[string]int64{}}, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	if f.Statements == nil {
		f.Statements = map[string]map[string]int64{}
	}
	return f, nil
}

// recordStatements makes the file contents from the runs' measured counts.
func recordStatements(runs []*Run) statementFile {
	f := statementFile{
		Comment:    "SQL statements per request of each herald-bench operation, per backend; written by `go run ./cmd/herald-bench -ci -record`. CI fails when a count exceeds its record.",
		Statements: map[string]map[string]int64{},
	}
	for _, r := range runs {
		f.Scale = r.Scale
		m := f.Statements[r.Backend]
		if m == nil {
			m = map[string]int64{}
			f.Statements[r.Backend] = m
		}
		for _, o := range r.Ops {
			if n := o.serialStatements(); n >= 0 {
				m[o.Op] = n
			}
		}
	}
	return f
}

func saveStatements(path string, f statementFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// compareStatements checks every measured count against the record, and that no paged read's
// count depends on its page size.
func compareStatements(file string, rec statementFile, runs []*Run) *StatementCheck {
	c := &StatementCheck{File: file}
	for _, r := range runs {
		for _, o := range r.Ops {
			l := StatementLine{Backend: r.Backend, Op: o.Op, Measured: o.serialStatements()}
			if v, ok := rec.Statements[r.Backend][o.Op]; ok {
				l.Recorded = &v
			}
			switch {
			case l.Measured < 0:
				l.Verdict = "FAIL: no count (is HERALD_REPORT_SQL_STATEMENTS honoured?)"
			case l.Recorded == nil:
				l.Verdict = "FAIL: not recorded; run with -ci -record"
			case l.Measured > *l.Recorded:
				l.Verdict = fmt.Sprintf("FAIL: %d more than recorded", l.Measured-*l.Recorded)
			case l.Measured < *l.Recorded:
				l.Verdict = "ok, fewer than recorded: run with -ci -record to keep the gain"
			default:
				l.Verdict = "ok"
			}
			if ps := r.SizeStatements[o.Op]; ps != nil && !sizeConstant(ps) {
				l.Verdict = fmt.Sprintf("FAIL: grows with the page size (%d at 10, %d at 100)", ps["10"], ps["100"])
			}
			if o.Statements > l.Measured {
				l.Verdict += fmt.Sprintf(" (up to %d under concurrent load)", o.Statements)
			}
			if strings.HasPrefix(l.Verdict, "FAIL") {
				c.Failed = true
			}
			c.Lines = append(c.Lines, l)
		}
	}
	slices.SortStableFunc(c.Lines, func(a, b StatementLine) int { return strings.Compare(a.Backend, b.Backend) })
	return c
}

func recordedText(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

// Summary is the one line CI prints.
func (c *StatementCheck) Summary() string {
	var fails, fewer []string
	for _, l := range c.Lines {
		name := l.Backend + "/" + l.Op
		switch {
		case strings.HasPrefix(l.Verdict, "FAIL"):
			fails = append(fails, fmt.Sprintf("%s %d>%s", name, l.Measured, recordedText(l.Recorded)))
		case l.Recorded != nil && l.Measured < *l.Recorded:
			fewer = append(fewer, fmt.Sprintf("%s %d<%d", name, l.Measured, *l.Recorded))
		}
	}
	var sb strings.Builder
	if c.Failed {
		fmt.Fprintf(&sb, "FAIL: %d of %d SQL statement counts exceed %s: %s", len(fails), len(c.Lines), c.File, strings.Join(fails, ", "))
	} else {
		fmt.Fprintf(&sb, "OK: %d SQL statement counts within %s", len(c.Lines), c.File)
	}
	if len(fewer) > 0 {
		fmt.Fprintf(&sb, "; fewer than recorded (record again to keep): %s", strings.Join(fewer, ", "))
	}
	return sb.String()
}
