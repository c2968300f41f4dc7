package senders

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Severity ranks an alert; the values match the GraphQL enum.
type Severity string

const (
	Info     Severity = "INFO"
	Warning  Severity = "WARNING"
	Critical Severity = "CRITICAL"
)

// Rank orders severities: INFO 0, WARNING 1, CRITICAL 2 (unknown values rank as INFO).
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 2
	case Warning:
		return 1
	}
	return 0
}

// Format chooses how a message is rendered; the values match the GraphQL enum.
type Format string

const (
	Text     Format = "TEXT"
	Markdown Format = "MARKDOWN"
	// Card is the platform's native card: a Lark interactive card, a DingTalk actionCard, a WeCom
	// template_card. A card that does not fit the platform's limits is sent as markdown.
	Card Format = "CARD"
)

// Link is a labelled URL: a button on a card, a link line in other formats.
type Link struct {
	Text string
	URL  string
}

// Field is one key/value row a card shows (a WeCom text_notice's horizontal_content_list).
type Field struct {
	Name  string
	Value string
}

// Section is one alert of a coalesced message: a card shows each as a block of its own.
type Section struct {
	Heading string
	Content string
}

// Message is one alert, independent of platform.
type Message struct {
	Title         string
	Content       string
	Severity      Severity
	Format        Format
	MentionAll    bool
	MentionPhones []string
	// MentionUserIDs are the recipients' user ids on the robot's platform (DingTalk userId, WeCom
	// userid, Lark open_id): a mention by id pings the account, wherever the phone is unknown.
	MentionUserIDs []string
	// Links become a card's buttons; other formats list them after the content.
	Links []Link
	// Fields are key/value rows for cards that have them (labels); other formats ignore them.
	Fields []Field
	// Sections, when set, are the alerts of a coalesced message; Content holds them joined, for the
	// formats and fallbacks that show one body.
	Sections []Section
	// Resolved says the problem is over: the message reads as resolved, not at its severity.
	Resolved bool
}

// Robot is one chat bot as a message is sent to it: where it is and how it is protected, its
// signing secret opened. (A contact's webhook, in the address book, is the configuration of a
// robot; the outbox stores it with the secret sealed.)
type Robot struct {
	URL      string
	Platform Platform // empty: recognised from URL
	Secret   string   // plaintext signing secret (DingTalk, Lark); empty when unsigned
	Keyword  string   // the robot's keyword security word; empty when none
}

// MaxTitleBytes bounds the title. A title is never cut to fit a platform's
// size limit (content is), so it needs a bound of its own that leaves room
// for content even under WeCom's 2,048-byte text limit.
const MaxTitleBytes = 512

// Label is the severity as shown to readers: English for tooling and
// non-Chinese clients, Chinese for everyone else.
func (s Severity) Label() string {
	switch s {
	case Critical:
		return "CRITICAL 严重"
	case Warning:
		return "WARNING 警告"
	default:
		return "INFO 提示"
	}
}

// ResolvedLabel heads a resolved message in place of the severity.
const ResolvedLabel = "RESOLVED 已恢复"

// Label is what the message's heading shows in brackets: the severity, or that it is resolved.
func (m Message) Label() string {
	if m.Resolved {
		return ResolvedLabel
	}
	return m.Severity.Label()
}

// Normalize fills defaults (INFO, TEXT), trims and de-duplicates phones, caps
// the title, and rejects what no platform can carry.
func (m Message) Normalize() (Message, error) {
	switch m.Severity {
	case "":
		m.Severity = Info
	case Info, Warning, Critical:
	default:
		return m, fmt.Errorf("unknown severity %q: want INFO, WARNING or CRITICAL", string(m.Severity))
	}
	switch m.Format {
	case "":
		m.Format = Text
	case Text, Markdown, Card:
	default:
		return m, fmt.Errorf("unknown format %q: want TEXT, MARKDOWN or CARD", string(m.Format))
	}
	m.Title = strings.TrimSpace(strings.ToValidUTF8(m.Title, "\uFFFD"))
	// A newline in the title would break the one-line heading every platform shows.
	m.Title = strings.Join(strings.Fields(m.Title), " ")
	m.Content = strings.ToValidUTF8(m.Content, "\uFFFD")
	if m.Title == "" && strings.TrimSpace(m.Content) == "" {
		return m, errors.New("message has neither title nor content")
	}
	if len(m.Title) > MaxTitleBytes {
		m.Title = cutRunes(m.Title, MaxTitleBytes-len("…")) + "…"
	}
	m.MentionPhones = distinct(m.MentionPhones)
	m.MentionUserIDs = distinct(m.MentionUserIDs)
	return m, nil
}

// Mentions reports whether the message asks to mention anyone.
func (m Message) Mentions() bool {
	return m.MentionAll || len(m.MentionPhones) > 0 || len(m.MentionUserIDs) > 0
}

// distinct trims values and drops empty and repeated ones, keeping the first of each in order.
func distinct(values []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// Heading is the one-line headline every platform shows first, for example
// "[CRITICAL 严重] Disk full [SchedulerX]" or "[RESOLVED 已恢复] Disk full [SchedulerX]". Keywords missing from the title
// are appended so that keyword security sees them in the title; because the
// heading is never truncated, the keywords always survive.
func Heading(m Message, keywords ...string) string {
	h := "[" + m.Label() + "]"
	if m.Title != "" {
		h += " " + m.Title
	}
	for _, kw := range keywords {
		if kw != "" && !strings.Contains(h, kw) {
			h += " [" + kw + "]"
		}
	}
	return h
}

// MentionLine lists phones as "@138… @139…". DingTalk only highlights a
// mentioned mobile when this text is in the message; elsewhere it shows
// readers who was asked to act.
func MentionLine(phones []string) string {
	if len(phones) == 0 {
		return ""
	}
	return "@" + strings.Join(phones, " @")
}

// cutRunes returns the longest prefix of s of at most n bytes that ends on a
// rune boundary.
func cutRunes(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
