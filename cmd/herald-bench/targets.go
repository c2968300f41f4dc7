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

// findRun is the run of a backend at a scale with the smallest history, or nil.
func findRun(runs []*Run, backend string, scale int) *Run {
	var found *Run
	for _, r := range runs {
		if r.Backend == backend && r.Scale == scale && (found == nil || r.History < found.History) {
			found = r
		}
	}
	return found
}

// findHistory is the run of a backend at a scale with the given history, or nil.
func findHistory(runs []*Run, backend string, scale, history int) *Run {
	for _, r := range runs {
		if r.Backend == backend && r.Scale == scale && r.History == history {
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

	// 1. Statement counts: constant in page size, scale and history; for the nested page at most the
	// six its shape needs (the page, totalCount, webhooks, groups, their counts, their first members).
	{
		name, goal := "SQL statements per request", "constant in page size, scale and history; nested page ≤ 6"
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
			for _, spec := range allOps {
				var sizes []string
				for _, r := range mysqlRuns {
					ps := r.SizeStatements[spec.Name]
					if ps == nil {
						continue
					}
					if !sizeConstant(ps) {
						ok = false
					}
					sizes = append(sizes, fmt.Sprintf("%d/%d at %s", ps["10"], ps["100"], r.scaleText()))
				}
				if len(sizes) > 0 {
					parts = append(parts, spec.Name+" page size 10/100: "+strings.Join(sizes, ", "))
				}
			}
			for _, spec := range allOps {
				var counts []string
				var vals []int64
				for _, r := range mysqlRuns {
					if o := r.op(spec.Name); o != nil {
						vals = append(vals, o.Statements)
						counts = append(counts, fmt.Sprintf("%s: %s", r.scaleText(), stmtText(o)))
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
				if spec.Name == "page" && slices.Max(vals) > 6 {
					ok = false
				}
				parts = append(parts, spec.Name+" "+strings.Join(counts, ", "))
			}
			if len(mysqlRuns) < 2 {
				parts = append(parts, "(one run only: constancy in scale and history not shown)")
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
	latencyTarget("nested page latency", "p99 < 50 ms at concurrency 8", "page", 8, 50, p99, "p99")

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

	if c := main.opOrNil("sendOne").cell(8); c == nil || c.Herald.Requests == 0 {
		missing("sendAlert to one robot", "≥ 500 accepted per second at concurrency 8")
	} else {
		out = append(out, Target{Name: "sendAlert to one robot", Goal: "≥ 500 accepted per second at concurrency 8",
			Measured: fmt.Sprintf("%.0f/s, p99 %.1f ms (n=%d)", c.Herald.Throughput, c.Herald.P99, c.Herald.Requests), Status: verdict(c.Herald.Throughput >= 500)})
	}

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

	// History: the history's first page and the dispatcher's claims do not slow as deliveries pile up.
	{
		name, goal := "history 10k → 1M stored deliveries", "claim latency and alerts page p95 grow < 2× (MariaDB, 10k contacts, lowest concurrency)"
		a, b := findHistory(runs, "mysql", 10_000, 10_000), findHistory(runs, "mysql", 10_000, 1_000_000)
		if a == nil || b == nil {
			out = append(out, Target{Name: name, Goal: goal, Measured: "needs MariaDB runs at 10k contacts with -history 10k,1M", Status: statusMissing})
		} else {
			ha, hb := a.historyFigures(), b.historyFigures()
			if ha.alertsP95 == 0 || hb.alertsP95 == 0 || ha.claimMs == 0 || hb.claimMs == 0 {
				out = append(out, Target{Name: name, Goal: goal, Measured: "needs alertsPage and inbound in both runs", Status: statusMissing})
			} else {
				ga, gc := hb.alertsP95/ha.alertsP95, hb.claimMs/ha.claimMs
				m := fmt.Sprintf("alerts page p95 %.1f → %.1f ms: %.2f×; claim latency %.2f → %.2f ms: %.2f×", ha.alertsP95, hb.alertsP95, ga, ha.claimMs, hb.claimMs, gc)
				if ha.deliveriesP95 > 0 && hb.deliveriesP95 > 0 {
					m += fmt.Sprintf(" (alertDeliveries p95 %.1f → %.1f ms: %.2f×)", ha.deliveriesP95, hb.deliveriesP95, hb.deliveriesP95/ha.deliveriesP95)
				}
				out = append(out, Target{Name: name, Goal: goal, Measured: m, Status: verdict(ga < 2 && gc < 2)})
			}
		}
	}

	// 8. Memory: the peak after every read has run at the highest concurrency.
	{
		name, goal := "server peak RSS", "VmHWM under the full read mix at c=32 < 150 MB"
		top, mix := 0, []string(nil)
		if main != nil {
			top, mix = readMix(main)
		}
		var absent []string
		for _, spec := range allOps {
			if spec.Read && (top < 32 || !slices.Contains(mix, spec.Name)) {
				absent = append(absent, spec.Name)
			}
		}
		switch {
		case main == nil || main.PeakRSSReadMiB == 0 || len(mix) == 0:
			missing(name, goal)
		case len(absent) > 0:
			out = append(out, Target{Name: name, Goal: goal, Status: statusMissing,
				Measured: fmt.Sprintf("VmHWM %.0f MB after the reads, but not every read ran at c=32 (missing: %s)", main.PeakRSSReadMiB*1.048576, strings.Join(absent, ", "))})
		default:
			mb := main.PeakRSSReadMiB * 1.048576
			out = append(out, Target{Name: name, Goal: goal, Status: verdict(mb < 150),
				Measured: fmt.Sprintf("VmHWM %.0f MB after %d reads, each up to c=%d (%.0f MB at the end)", mb, len(mix), top, main.PeakRSSEndMiB*1.048576)})
		}
	}
	return out
}

// sizeConstant reports whether a read's statement counts are the same at every page size.
func sizeConstant(m map[string]int64) bool {
	first, set := int64(0), false
	for _, v := range m {
		if set && v != first {
			return false
		}
		first, set = v, true
	}
	return true
}

// scaleText names a run's data set in a measurement: contacts, and stored deliveries.
func (r *Run) scaleText() string {
	return scaleName(r.Scale) + "/" + scaleName(r.History)
}

// opOrNil is op on a run that may be missing.
func (r *Run) opOrNil(name string) *OpResult {
	if r == nil {
		return nil
	}
	return r.op(name)
}
