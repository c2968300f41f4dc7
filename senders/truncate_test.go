package senders

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateCutsOnARuneBoundaryWithAMarker(t *testing.T) {
	s := strings.Repeat("磁盘已满", 100) // 3 bytes a rune
	for limit := len(TruncationMarker); limit < 200; limit++ {
		got, cut := Truncate(s, limit)
		if !cut || len(got) > limit || !utf8.ValidString(got) || !strings.HasSuffix(got, TruncationMarker) {
			t.Fatalf("Truncate(_, %d) = %q (%d bytes, cut=%v)", limit, got, len(got), cut)
		}
		if !strings.HasPrefix(s, strings.TrimSuffix(got, TruncationMarker)) {
			t.Fatalf("Truncate(_, %d) kept something that is not a prefix: %q", limit, got)
		}
	}
	if got, cut := Truncate("short", 100); cut || got != "short" {
		t.Fatalf("content that fits was changed: %q", got)
	}
}

func TestTruncateNeverCutsInsideAMarkdownLink(t *testing.T) {
	link := "[运行手册 runbook](https://wiki.example.com/runbooks/disk-full?x=1)"
	s := "Disk is full. See " + link + " and then more text follows here."
	start := strings.Index(s, link)
	for limit := start + len(TruncationMarker); limit < start+len(link)+len(TruncationMarker); limit++ {
		got, _ := Truncate(s, limit)
		kept := strings.TrimSuffix(got, TruncationMarker)
		if strings.Contains(kept, "[") && !strings.Contains(kept, link) {
			t.Fatalf("Truncate(_, %d) cut inside the link: %q", limit, got)
		}
	}
	got, _ := Truncate(s, start+len(link)+len(TruncationMarker))
	if !strings.Contains(got, link) {
		t.Fatalf("a link that fits was dropped: %q", got)
	}
}

func TestFitShrinksUntilTheRenderedSizeFits(t *testing.T) {
	// Quotes double in JSON, so content size and rendered size differ.
	content := strings.Repeat(`"引号" `, 500)
	measure := func(c string) (int, error) { return 100 + len(strings.ReplaceAll(c, `"`, `\"`)), nil }
	got, cut, err := Fit(content, 1000, measure)
	if err != nil || !cut {
		t.Fatalf("Fit = %v, %v", cut, err)
	}
	if n, _ := measure(got); n > 1000 || n < 900 {
		t.Fatalf("rendered size %d; want within 900..1000", n)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, TruncationMarker) {
		t.Fatalf("bad cut: %q", got)
	}
}

func TestFitFailsWhenFixedPartsAloneAreTooBig(t *testing.T) {
	_, _, err := Fit("x", 10, func(c string) (int, error) { return 50 + len(c), nil })
	if err == nil || !strings.Contains(err.Error(), "too big") {
		t.Fatalf("Fit = %v; want a too-big error", err)
	}
}
