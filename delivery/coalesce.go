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

func (it *item) message() senders.Message { return messageOf(it.alert, &it.d) }

// messageOf is the message of an alert to one robot: the alert's text, links and labels with the
// delivery's mentions.
func messageOf(a *Alert, d *Delivery) senders.Message {
	m := senders.Message{
		Title: a.Title, Content: a.Content, Severity: a.Severity, Format: a.Format, MentionAll: a.MentionAll,
		MentionPhones: d.MentionPhones, MentionUserIDs: d.MentionUserIDs, Resolved: a.Resolved, Links: a.Links,
	}
	for _, l := range a.Labels {
		m.Fields = append(m.Fields, senders.Field{Name: l.Name, Value: l.Value})
	}
	return m
}

// batch is one message to a robot: a single alert, or several combined.
type batch struct {
	items []*item
	robot robot
	msg   senders.Message
	// sends is what the message costs the robot's budget (two with a companion message), and
	// sendIDs the robot_sends rows reserved for them.
	sends   int
	sendIDs []uint
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
	m := merged(items)
	titles := make([]string, len(items))
	for i, it := range items {
		titles[i] = it.alert.Title
	}
	m.Title = fmt.Sprintf("%d alerts: %s", len(items), strings.Join(titles, "; "))
	if utf8.RuneCountInString(m.Title) > maxCombinedTitle {
		m.Title = string([]rune(m.Title)[:maxCombinedTitle-1]) + "…"
	}
	var b strings.Builder
	for i, it := range items {
		a := it.alert
		if m.Format == senders.Card {
			m.Sections = append(m.Sections, senders.Section{
				Heading: fmt.Sprintf("%d/%d [%s] %s", i+1, len(items), it.message().Label(), a.Title), Content: a.Content,
			})
		}
		if m.Format != senders.Text {
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

// merged is what a message for several alerts takes from all of them: the highest severity,
// resolved only when all are, the format all can share (a card only when every alert is one,
// markdown when every alert is markdown or a card), every mention and every distinct link.
func merged(items []*item) senders.Message {
	m := senders.Message{Severity: senders.Info, Format: senders.Card, Resolved: true}
	for _, it := range items {
		a := it.alert
		m.Resolved = m.Resolved && a.Resolved
		if a.Severity.Rank() > m.Severity.Rank() {
			m.Severity = a.Severity
		}
		switch {
		case a.Format == senders.Text:
			m.Format = senders.Text
		case a.Format == senders.Markdown && m.Format == senders.Card:
			m.Format = senders.Markdown
		}
		m.MentionAll = m.MentionAll || a.MentionAll
		m.MentionPhones = appendNew(m.MentionPhones, it.d.MentionPhones...)
		m.MentionUserIDs = appendNew(m.MentionUserIDs, it.d.MentionUserIDs...)
		for _, l := range a.Links {
			if !slices.ContainsFunc(m.Links, func(x senders.Link) bool { return x.URL == l.URL }) {
				m.Links = append(m.Links, l)
			}
		}
	}
	return m
}

// appendNew appends the values list does not hold yet.
func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// digest is the one message a robot gets for the deliveries quiet hours held: a line per alert
// (its severity, title and the first line of its content), the first shown of them in the order
// they were accepted and the rest counted, so that the message fits however many were held.
func digest(items []*item, shown int) senders.Message {
	m := merged(items)
	m.Format, m.Links = senders.Markdown, nil // one line per alert: no card, no buttons
	var groups []string
	for _, it := range items {
		if it.d.HeldBy != nil {
			groups = appendNew(groups, strings.Split(*it.d.HeldBy, ", ")...)
		}
	}
	slices.Sort(groups)
	m.Title = fmt.Sprintf("Quiet hours digest: %d alert(s) held for %s", len(items), strings.Join(groups, ", "))
	if utf8.RuneCountInString(m.Title) > maxCombinedTitle {
		m.Title = string([]rune(m.Title)[:maxCombinedTitle-1]) + "…"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Held during quiet hours, in the order they came:\n")
	for i, it := range items[:min(shown, len(items))] {
		a := it.alert
		first, _, _ := strings.Cut(strings.TrimSpace(a.Content), "\n")
		if utf8.RuneCountInString(first) > maxDigestLine {
			first = string([]rune(first)[:maxDigestLine-1]) + "…"
		}
		fmt.Fprintf(&b, "\n%d. [%s] **%s** (%s UTC) %s", i+1, it.message().Label(), senders.OneLine(a.Title), a.CreatedAt.UTC().Format("Jan 2 15:04"), senders.OneLine(first))
	}
	if rest := len(items) - shown; rest > 0 {
		fmt.Fprintf(&b, "\n\n… and %d more: see the alert history.", rest)
	}
	m.Content = b.String()
	return m
}

// maxDigestLine bounds the content shown for each alert of a digest, in characters.
const maxDigestLine = 160
