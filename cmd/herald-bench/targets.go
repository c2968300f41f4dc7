package main

import (
	"fmt"
	"slices"
	"strings"
)

// The brief's targets, judged on MariaDB at 10k contacts unless a target says otherwise. A target
// whose figures were not part of the run is "not measured", never met.

const (
	statusMet     = "met"
	statusMissed  = "missed"
	statusMissing = "not measured"
)

func verdict(ok bool) string {
	if ok {
		return statusMet
	}
	return statusMissed
}

func findRun(runs []*Run, backend string, scale int) *Run {
	for _, r := range runs {
		if r.Backend == backend && r.Scale == scale {
			return r
		}
	}
	return nil
}

func evaluateTargets(runs []*Run) []Target {
	var out []Target
	main := findRun(runs, "mysql", 10_000)
	missing := func(name, goal string) {
		out = append(out, Target{Name: name, Goal: goal, Measured: "needs MariaDB at 10k", Status: statusMissing})
	}

	// 1. Statement counts: constant in page size and scale, at most 5 for the nested page.
	{
		name, goal := "SQL statements per request", "constant in page size and scale; nested page ≤ 5"
		var mysqlRuns []*Run
		for _, r := range runs {
			if r.Backend == "mysql" {
				mysqlRuns = append(mysqlRuns, r)
			}
		}
		if len(mysqlRuns) == 0 || mysqlRuns[0].op("page") == nil {
			out = append(out, Target{Name: name, Goal: goal, Measured: "needs the page operation on MariaDB", Status: statusMissing})
		} else {
			ok := true
			var parts []string
			for _, r := range mysqlRuns {
				ps := r.PageStatements
				if ps["10"] != ps["100"] {
					ok = false
				}
				parts = append(parts, fmt.Sprintf("page size 10/100 at %s: %d/%d", scaleName(r.Scale), ps["10"], ps["100"]))
			}
			for _, spec := range allOps {
				var counts []string
				var vals []int64
				for _, r := range mysqlRuns {
					if o := r.op(spec.Name); o != nil {
						vals = append(vals, o.Statements)
						counts = append(counts, fmt.Sprintf("%s: %s", scaleName(r.Scale), stmtText(o)))
						if o.Statements != o.StatementsMin {
							ok = false
						}
					}
				}
				if len(vals) == 0 {
					continue
				}
				if slices.Min(vals) != slices.Max(vals) {
					ok = false
				}
				if spec.Name == "page" && slices.Max(vals) > 5 {
					ok = false
				}
				parts = append(parts, spec.Name+" "+strings.Join(counts, ", "))
			}
			if len(mysqlRuns) < 2 {
				parts = append(parts, "(one scale only: constancy in scale not shown)")
			}
			out = append(out, Target{Name: name, Goal: goal, Measured: strings.Join(parts, "; "), Status: verdict(ok)})
		}
	}

	// 2. Read throughput within half of the floor's.
	for _, spec := range allOps {
		if !spec.Read {
			continue
		}
		name, goal := "throughput ratio: "+spec.Name, "Herald / floor ≥ 0.5 at every concurrency"
		o := main.opOrNil(spec.Name)
		if o == nil {
			missing(name, goal)
			continue
		}
		ok := true
		var parts []string
		for _, c := range o.Cells {
			if c.Ratio == nil {
				continue
			}
			parts = append(parts, fmt.Sprintf("c=%d: %.2f", c.Concurrency, *c.Ratio))
			if *c.Ratio < 0.5 {
				ok = false
			}
		}
		out = append(out, Target{Name: name, Goal: goal, Measured: strings.Join(parts, ", "), Status: verdict(ok)})
	}

	// 3. Nested page latency under load.
	latencyTarget := func(name, goal, op string, conc int, limit float64, pick func(Measure) float64, what string) {
		c := main.opOrNil(op).cell(conc)
		if c == nil || c.Herald.Requests == 0 {
			missing(name, goal)
			return
		}
		v := pick(c.Herald)
		out = append(out, Target{Name: name, Goal: goal,
			Measured: fmt.Sprintf("%s %.1f ms (%.1fx the limit, n=%d)", what, v, v/limit, c.Herald.Requests), Status: verdict(v < limit)})
	}
	p95 := func(m Measure) float64 { return m.P95 }
	p99 := func(m Measure) float64 { return m.P99 }
	latencyTarget("nested page latency", "p99 < 25 ms at concurrency 8", "page", 8, 25, p99, "p99")

	// 4. Flat cost in scale.
	small, large := findRun(runs, "mysql", 1_000), findRun(runs, "mysql", 100_000)
	for _, op := range []string{"page", "deepPage", "search"} {
		name, goal := "growth 1k→100k: "+op, "p95 at concurrency 1 grows < 2×"
		a, b := small.opOrNil(op).cell(1), large.opOrNil(op).cell(1)
		if a == nil || b == nil || a.Herald.P95 == 0 {
			out = append(out, Target{Name: name, Goal: goal, Measured: "needs MariaDB runs at 1k and 100k", Status: statusMissing})
			continue
		}
		g := b.Herald.P95 / a.Herald.P95
		out = append(out, Target{Name: name, Goal: goal,
			Measured: fmt.Sprintf("%.1f → %.1f ms: %.2f×", a.Herald.P95, b.Herald.P95, g), Status: verdict(g < 2)})
	}

	// 5-7. Writes.
	latencyTarget("batchDelete 1,000", "< 500 ms (p95, serial)", "batchDelete", 1, 500, p95, "p95")
	latencyTarget("updateContactGroup 1,000 members", "< 500 ms (p95, serial)", "updateContactGroup", 1, 500, p95, "p95")
	latencyTarget("createContact", "p99 < 20 ms (judged at concurrency 8)", "createContact", 8, 20, p99, "p99")

	// Inbound: notifications accepted, and the queue's claims not slowing while they arrive.
	latencyTarget("inbound latency", "p99 < 50 ms at concurrency 8", "inbound", 8, 50, p99, "p99")
	if c := main.opOrNil("inbound").cell(8); c == nil || c.Herald.Requests == 0 {
		missing("inbound throughput", "≥ 500 accepted notifications/s at concurrency 8")
		missing("claim latency during inbound", "no growth: last quarter's mean ≤ 2× the first's at every concurrency")
	} else {
		out = append(out, Target{Name: "inbound throughput", Goal: "≥ 500 accepted notifications/s at concurrency 8",
			Measured: fmt.Sprintf("%.0f/s (n=%d)", c.Herald.Throughput, c.Herald.Requests), Status: verdict(c.Herald.Throughput >= 500)})
		ok, parts := true, []string{}
		for _, cell := range main.opOrNil("inbound").Cells {
			q := cell.ClaimMs
			if len(q) < 2 {
				continue
			}
			first, last := q[0], q[len(q)-1]
			parts = append(parts, fmt.Sprintf("c=%d: %s ms", cell.Concurrency, formatQuarters(q)))
			if first > 0 && last > 2*first {
				ok = false
			}
		}
		out = append(out, Target{Name: "claim latency during inbound", Goal: "no growth: last quarter's mean ≤ 2× the first's at every concurrency",
			Measured: strings.Join(parts, "; "), Status: verdict(ok)})
	}

	// 8. Memory.
	if main == nil || main.PeakRSSReadMiB == 0 || !hasReads(main) {
		missing("server peak RSS", "< 150 MB under the read load")
	} else {
		mb := main.PeakRSSReadMiB * 1.048576
		out = append(out, Target{Name: "server peak RSS", Goal: "< 150 MB under the read load",
			Measured: fmt.Sprintf("VmHWM %.0f MB after the reads (%.0f MB at the end)", mb, main.PeakRSSEndMiB*1.048576), Status: verdict(mb < 150)})
	}
	return out
}

// opOrNil is op on a run that may be missing.
func (r *Run) opOrNil(name string) *OpResult {
	if r == nil {
		return nil
	}
	return r.op(name)
}
