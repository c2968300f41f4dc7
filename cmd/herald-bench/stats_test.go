package main

import (
	"testing"
	"time"
)

func msList(vals ...int) []time.Duration {
	out := make([]time.Duration, len(vals))
	for i, v := range vals {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentileIsNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"p50 of 1..100 is 50", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100 is 95", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100 is 99", hundred, 99, 99 * time.Millisecond},
		{"p100 is the maximum", hundred, 100, 100 * time.Millisecond},
		{"p99 of ten samples is their maximum", msList(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p50 of two samples is the lower", msList(1, 2), 50, time.Millisecond},
		{"one sample is every percentile", msList(7), 1, 7 * time.Millisecond},
		{"no samples is zero", nil, 50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.samples, tc.p); got != tc.want {
				t.Fatalf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeSortsAndNeverInterpolates(t *testing.T) {
	l := summarize(msList(30, 10, 20, 40))
	if l.P50 != 20 || l.P95 != 40 || l.P99 != 40 || l.Max != 40 || l.Mean != 25 {
		t.Fatalf("summary = %+v", l)
	}
	if (summarize(nil) != Latency{}) {
		t.Fatal("summary of nothing is not zero")
	}
}

func TestInspectReadsTheStatementCountAndRefusesErrors(t *testing.T) {
	n, err := inspect([]byte(`{"data":{"x":"\"sqlStatements\":9"},"extensions":{"sqlStatements":5}}`))
	if err != nil || n != 5 {
		t.Fatalf("inspect = %d, %v; want 5", n, err)
	}
	if n, err := inspect([]byte(`{"data":{"x":1}}`)); err != nil || n != -1 {
		t.Fatalf("without extensions: %d, %v; want -1, nil", n, err)
	}
	if _, err := inspect([]byte(`{"errors":[{"message":"boom"}],"data":null}`)); err == nil {
		t.Fatal("an answer with errors was accepted")
	}
	if _, err := inspect([]byte(`<html>502</html>`)); err == nil {
		t.Fatal("a non-GraphQL answer was accepted")
	}
}

func TestParseScale(t *testing.T) {
	for in, want := range map[string]int{"1k": 1000, "10K": 10_000, "100k": 100_000, "2500": 2500, "1M": 1_000_000} {
		if got, err := parseScale(in); err != nil || got != want {
			t.Errorf("parseScale(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k", "20m", "5", "-1k"} {
		if _, err := parseScale(bad); err == nil {
			t.Errorf("parseScale(%q) accepted", bad)
		}
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\therald\nVmPeak:\t 2000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t   10240 kB\n"
	if got := parseStatusKB(status, "VmHWM"); got != 153600 {
		t.Fatalf("VmHWM = %v", got)
	}
	if got := parseStatusKB(status, "VmSwap"); got != 0 {
		t.Fatalf("missing key = %v", got)
	}
}

func TestFirstDiffFindsThePath(t *testing.T) {
	a := map[string]any{"contacts": map[string]any{"edges": []any{map[string]any{"id": "1"}, map[string]any{"id": "2"}}}}
	b := map[string]any{"contacts": map[string]any{"edges": []any{map[string]any{"id": "1"}, map[string]any{"id": "3"}}}}
	if d := firstDiff(a, a, "data"); d != "" {
		t.Fatalf("equal values differ: %s", d)
	}
	if d := firstDiff(a, b, "data"); d != `data.contacts.edges[1].id: "2" vs "3"` {
		t.Fatalf("diff = %s", d)
	}
	if d := firstDiff(map[string]any{"a": nil}, map[string]any{}, "data"); d != "" {
		t.Fatalf("a null field and a missing one differ: %s", d)
	}
}
