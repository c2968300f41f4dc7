package senders

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
)

// MaxLinks bounds the links one message shows. Links sit outside the part of a message that is cut
// to fit, so without a bound they could crowd out the content.
const MaxLinks = 10

// MaxLinkTextBytes bounds a link's label: it becomes a button, where a paragraph is unreadable.
const MaxLinkTextBytes = 200

// UsableLinks returns the links every platform can show: absolute http(s) URLs of at most
// MaxURLBytes without spaces or control characters (a platform would refuse the message or render
// a broken link), at most MaxLinks of them, in order. A label is made one line and bounded; a link
// without one is labelled with its host.
func UsableLinks(links []Link) []Link {
	var out []Link
	for _, l := range links {
		if len(out) == MaxLinks {
			break
		}
		u, ok := linkURL(l.URL)
		if !ok {
			continue
		}
		text := strings.Join(strings.Fields(l.Text), " ")
		if text == "" {
			text = u.Host
		}
		if len(text) > MaxLinkTextBytes {
			text = cutRunes(text, MaxLinkTextBytes-len("…")) + "…"
		}
		out = append(out, Link{Text: text, URL: l.URL})
	}
	return out
}

// UsableURL reports whether a platform can link to raw (what UsableLinks keeps).
func UsableURL(raw string) bool {
	_, ok := linkURL(raw)
	return ok
}

func linkURL(raw string) (*url.URL, bool) {
	if raw == "" || len(raw) > MaxURLBytes ||
		strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u, true
	}
	return nil, false
}

// TextLinks renders links for plain text, one "Text: URL" line each, so that clients which make
// URLs clickable in text do so.
func TextLinks(links []Link) string {
	links = UsableLinks(links)
	lines := make([]string, len(links))
	for i, l := range links {
		lines[i] = l.Text + ": " + l.URL
	}
	return strings.Join(lines, "\n")
}

// markdownLabel keeps a label from closing the link's brackets early.
var markdownLabel = strings.NewReplacer("[", "(", "]", ")")

// markdownTarget keeps a URL from closing the link's parentheses early; the encoded forms are the
// same URL.
var markdownTarget = strings.NewReplacer("(", "%28", ")", "%29")

// MarkdownLinks renders links for markdown: "[Text](URL)" joined by " · " on one line.
func MarkdownLinks(links []Link) string {
	links = UsableLinks(links)
	parts := make([]string, len(links))
	for i, l := range links {
		parts[i] = "[" + markdownLabel.Replace(l.Text) + "](" + markdownTarget.Replace(l.URL) + ")"
	}
	return strings.Join(parts, " · ")
}

// FitWithLinks is Fit for a message whose links sit outside the part that is cut: the usable links
// are kept while the message fits without content, dropped from the last when it does not, since
// the content (and the heading, which is never cut) say more than a link. It returns the content,
// the links kept, and whether anything was cut or dropped.
func FitWithLinks(content string, links []Link, limit int, measure func(content string, links []Link) (int, error)) (string, []Link, bool, error) {
	links = UsableLinks(links)
	dropped := false
	for len(links) > 0 {
		size, err := measure("", links)
		if err != nil {
			return "", nil, false, err
		}
		if size <= limit {
			break
		}
		links, dropped = links[:len(links)-1], true
	}
	cut, truncated, err := Fit(content, limit, func(c string) (int, error) { return measure(c, links) })
	if err != nil {
		return "", nil, false, err
	}
	return cut, links, truncated || dropped, nil
}

// IsTooBig reports whether err says a message cannot fit its platform's limit even without
// content: a builder with another format to offer falls back to it.
func IsTooBig(err error) bool {
	var tb errTooBig
	return errors.As(err, &tb)
}
