package models

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Regular expressions are compiled once and kept: a namespace holds at most MaxRegexMatchers of
// them (checked when routes and silences are saved), and the cache keeps eight namespaces' worth,
// so that matching every alert against them all compiles nothing in steady state.
func TestMatchingDoesNotRecompileSavedPatterns(t *testing.T) {
	const patterns = maxCompiledRegex
	in := make([]Matcher, 0, patterns)
	for i := range patterns {
		// Each matches the empty value, so that Matches tries them all; long, as a value may be.
		in = append(in, Matcher{Label: "team", Op: MatchRegexp, Value: fmt.Sprintf("|(?:x%05d%s)", i, strings.Repeat("[a-z]y", 100))})
	}
	// As saved: many routes of at most MaxMatchers each.
	var routes []Matchers
	for chunk := range slices.Chunk(in, MaxMatchers) {
		ms, err := CleanMatchers("matchers", chunk)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, ms)
	}
	labels := map[string]string{}
	accept := func() {
		for _, ms := range routes {
			if !ms.Matches(labels) {
				t.Fatal("a pattern did not match the empty value")
			}
		}
	}
	accept() // warm
	start := time.Now()
	allocs := testing.AllocsPerRun(2, accept)
	perAlert := time.Since(start) / 3
	if allocs > float64(patterns) {
		t.Fatalf("one alert against %d routes (%d saved patterns) allocates %.0f times and takes %s: every pattern is compiled again",
			len(routes), patterns, allocs, perAlert)
	}
}
