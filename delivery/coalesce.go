package delivery

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
)

// item is one claimed delivery with the alert it carries.
type item struct {
	d     Delivery
	robot robot
	alert *Alert
}

func (it *item) message() senders.Message {
	return senders.Message{
		Title: it.alert.Title, Content: it.alert.Content, Severity: it.alert.Severity, Format: it.alert.Format,
		MentionAll: it.alert.MentionAll, MentionPhones: it.d.MentionPhones, Resolved: it.alert.Resolved,
	}
}

// batch is one message to a robot: a single alert, or several combined.
type batch struct {
	items  []*item
	robot  robot
	msg    senders.Message
	sendID uint // the robot_sends row reserved for it
}

// maxCombinedTitle bounds the combined title in characters; the titles are all repeated in the body.
const maxCombinedTitle = 120

// combine builds the message for a batch. Several alerts become one message whose severity is the
// highest among them, whose title counts them ("3 alerts: …"), and whose body shows each alert's
// severity, title and content in the order they were accepted.
func combine(items []*item) senders.Message {
	if len(items) == 1 {
		return items[0].message()
	}
	m := senders.Message{Severity: senders.Info, Format: senders.Markdown, Resolved: true}
	titles := make([]string, len(items))
	for i, it := range items {
		a := it.alert
		m.Resolved = m.Resolved && a.Resolved
		if a.Severity.Rank() > m.Severity.Rank() {
			m.Severity = a.Severity
		}
		if a.Format != senders.Markdown {
			m.Format = senders.Text // markdown only when every alert was written as markdown
		}
		m.MentionAll = m.MentionAll || a.MentionAll
		for _, p := range it.d.MentionPhones {
			if !slices.Contains(m.MentionPhones, p) {
				m.MentionPhones = append(m.MentionPhones, p)
			}
		}
		titles[i] = a.Title
	}
	m.Title = fmt.Sprintf("%d alerts: %s", len(items), strings.Join(titles, "; "))
	if utf8.RuneCountInString(m.Title) > maxCombinedTitle {
		m.Title = string([]rune(m.Title)[:maxCombinedTitle-1]) + "…"
	}
	var b strings.Builder
	for i, it := range items {
		a := it.alert
		if m.Format == senders.Markdown {
			if i > 0 {
				b.WriteString("\n\n---\n\n")
			}
			fmt.Fprintf(&b, "**%d/%d [%s] %s**\n\n%s", i+1, len(items), it.message().Label(), a.Title, a.Content)
			continue
		}
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "%d/%d [%s] %s\n%s", i+1, len(items), it.message().Label(), a.Title, a.Content)
	}
	m.Content = b.String()
	return m
}
