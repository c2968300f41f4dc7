package senders

import (
	"strings"
	"testing"
)

func TestUsableLinksKeepsOnlyBoundedHTTPLinks(t *testing.T) {
	var links []Link
	for _, u := range []string{
		"javascript:alert(1)", "ftp://example.com/f", "//example.com/no-scheme", "https://", "https://example.com/a b",
		"https://example.com/" + strings.Repeat("x", MaxURLBytes), "mailto:a@example.com", "",
	} {
		links = append(links, Link{Text: "bad", URL: u})
	}
	for i := range MaxLinks + 2 {
		links = append(links, Link{Text: " Run\nbook ", URL: "HTTPS://example.com/" + strings.Repeat("a", i)})
	}
	links = append(links[:1], append([]Link{{URL: "http://grafana.example.com:3000/d/1"}}, links[1:]...)...)
	got := UsableLinks(links)
	if len(got) != MaxLinks {
		t.Fatalf("kept %d links; want %d: %+v", len(got), MaxLinks, got)
	}
	if got[0] != (Link{Text: "grafana.example.com:3000", URL: "http://grafana.example.com:3000/d/1"}) {
		t.Errorf("an unlabelled link is %+v; want its host as label", got[0])
	}
	for _, l := range got[1:] {
		if l.Text != "Run book" || !strings.HasPrefix(l.URL, "HTTPS://example.com/") {
			t.Errorf("kept %+v", l)
		}
	}
	if long := UsableLinks([]Link{{Text: strings.Repeat("长", MaxLinkTextBytes), URL: "https://example.com"}})[0].Text; len(long) > MaxLinkTextBytes || !strings.HasSuffix(long, "…") {
		t.Errorf("a long label is %d bytes", len(long))
	}
}

func TestLinkRenderingsCannotBreakTheirMarkup(t *testing.T) {
	links := []Link{{Text: "a [b]", URL: "https://example.com/x_(y)"}, {Text: "c", URL: "https://example.com/c"}}
	if got, want := MarkdownLinks(links), "[a (b)](https://example.com/x_%28y%29) · [c](https://example.com/c)"; got != want {
		t.Errorf("markdown %q; want %q", got, want)
	}
	if got, want := TextLinks(links), "a [b]: https://example.com/x_(y)\nc: https://example.com/c"; got != want {
		t.Errorf("text %q; want %q", got, want)
	}
	if MarkdownLinks(nil) != "" || TextLinks([]Link{{URL: "javascript:x"}}) != "" {
		t.Error("no usable links rendered as something")
	}
}

func TestFitWithLinksDropsLinksOnlyWhenTheRestCannotFit(t *testing.T) {
	links := []Link{{Text: "a", URL: "https://example.com/" + strings.Repeat("a", 100)}, {Text: "b", URL: "https://example.com/" + strings.Repeat("b", 100)}}
	measure := func(c string, l []Link) (int, error) { return len(c + MarkdownLinks(l)), nil }
	content, kept, cut, err := FitWithLinks(strings.Repeat("x", 1000), links, 300, measure)
	if err != nil || !cut || len(kept) != 2 || !strings.HasSuffix(content, TruncationMarker) {
		t.Fatalf("content cut %v, kept %d links, err %v", cut, len(kept), err)
	}
	if n, _ := measure(content, kept); n > 300 {
		t.Fatalf("rendered %d bytes", n)
	}
	content, kept, cut, err = FitWithLinks("short", links, 150, measure)
	if err != nil || !cut || len(kept) != 1 || kept[0].Text != "a" || content != "short" {
		t.Fatalf("content %q, kept %+v, cut %v, err %v", content, kept, cut, err)
	}
	if _, _, _, err = FitWithLinks("x", links, 10, func(c string, l []Link) (int, error) { return 50 + len(c), nil }); !IsTooBig(err) {
		t.Fatalf("err %v; want too big", err)
	}
}
