package senders

import (
	"fmt"
	"regexp"
	"strings"
)

// TruncationMarker ends content that was cut to fit a platform's limit, so a
// reader knows there was more.
const TruncationMarker = "\n…(truncated 内容已截断)"

// markdownLink matches an inline link or image. Cutting inside one would
// leave a dangling "[text](http://ex" that renders as garbage or a broken URL.
var markdownLink = regexp.MustCompile(`!?\[[^\]\n]*\]\([^)\n]*\)`)

// Truncate returns s when it fits in maxBytes, otherwise the longest prefix
// that ends on a rune boundary and outside any markdown link, followed by
// TruncationMarker, all within maxBytes. It reports whether it cut.
func Truncate(s string, maxBytes int) (string, bool) {
	return truncate(s, maxBytes, nil)
}

// truncate is Truncate with the links of s found beforehand (nil: find them in the part that
// matters), so that Fit's search scans its content for links once rather than at every step.
func truncate(s string, maxBytes int, links [][]int) (string, bool) {
	if len(s) <= maxBytes {
		return s, false
	}
	n := maxBytes - len(TruncationMarker)
	if n <= 0 {
		return cutRunes(TruncationMarker, maxBytes), true
	}
	n = len(cutRunes(s, n))
	if links == nil {
		links = markdownLink.FindAllStringIndex(s[:min(len(s), n+MaxURLBytes)], -1)
	}
	for _, loc := range links {
		if loc[0] < n && n < loc[1] {
			n = loc[0]
			break
		}
	}
	return strings.TrimRight(s[:n], " \t") + TruncationMarker, true
}

// Fit cuts content until measure(content) is at most limit. measure renders
// whatever the platform limits (a whole JSON body, one field) around the
// content. Escaping makes rendered size differ from content size by an
// amount that depends on the text, so Fit searches for the largest content
// budget that fits rather than computing it; this runs only for oversize
// messages and costs about log2(len(content)) renders.
func Fit(content string, limit int, measure func(content string) (int, error)) (string, bool, error) {
	size, err := measure(content)
	if err != nil || size <= limit {
		return content, false, err
	}
	best, found := "", false
	links := markdownLink.FindAllStringIndex(content, -1)
	if links == nil {
		links = [][]int{}
	}
	lo, hi := 0, len(content)-1
	for lo <= hi {
		mid := lo + (hi-lo)/2
		cut, _ := truncate(content, mid, links)
		size, err := measure(cut)
		if err != nil {
			return "", false, err
		}
		if size <= limit {
			best, found = cut, true
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	if found {
		return best, true, nil
	}
	// Not even the marker fits: drop the content if the rest fits alone.
	if size, err = measure(""); err != nil {
		return "", false, err
	}
	if size > limit {
		return "", false, errTooBig{size: size, limit: limit}
	}
	return "", true, nil
}

type errTooBig struct{ size, limit int }

func (e errTooBig) Error() string {
	return fmt.Sprintf("message is too big for the platform even without content: %d bytes, limit %d", e.size, e.limit)
}
