package senders

import "strings"

// OneLine makes text that fills a line (a heading, a list item, a label) a single line: a newline
// in it would end the bold heading or the item early.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Bold is s as one bold markdown line, or "" for empty text (whose "****" would show).
func Bold(s string) string {
	if s = OneLine(s); s == "" {
		return ""
	}
	return "**" + s + "**"
}

// JoinNonEmpty joins the parts that are not empty.
func JoinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}
