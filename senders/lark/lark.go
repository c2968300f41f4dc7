// Package lark renders alerts for Lark / Feishu custom bots and reads their
// answers.
//
// MARKDOWN alerts are interactive cards (JSON 1.0, which every client shows)
// whose header colour follows severity. CARD alerts are JSON 2.0 cards with a
// button per link. TEXT alerts are rich-text posts, because a post has a real
// title line and the plain text type has none; WithPlainText switches them to
// msg_type text. Custom bots mention everyone and people by open_id in every
// format, but not by mobile number, so phones are listed as "@138…" text for
// readers to see who should act.
package lark

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/senders"
)

// MaxBodyBytes keeps below Lark's 20 KB request limit with a margin, since
// Lark does not say whether KB means 1,000 or 1,024 or what it counts.
const MaxBodyBytes = 19000

// Platform codes with a meaning for retries.
const (
	CodeOK            = 0
	CodeFrequency     = 11232
	CodeBadRequest    = 9499 // also seen with msg "too many request"
	CodeSignFail      = 19021
	CodeIPNotAllowed  = 19022
	CodeKeywordAbsent = 19024
	CodeTokenInvalid  = 19001
)

// Descriptor is Lark / Feishu as the rest of Herald knows it.
var Descriptor = senders.Descriptor{
	Platform:    senders.Lark,
	Name:        name,
	Label:       "Lark",
	Hosts:       []string{"open.feishu.cn", "open.larksuite.com"},
	WebhookPath: "/open-apis/bot/v2/hook/",
	// 5 messages a second and 100 a minute per bot, with the same margins as DingTalk's window.
	Windows: []senders.Window{
		{Limit: 5, Span: 1250 * time.Millisecond, Reserve: 1},
		{Limit: 100, Span: 62 * time.Second, Reserve: 25},
	},
	MaxBodyBytes: MaxBodyBytes,
	Mentions:     "@ by open_id (ou_…) or everyone in every format, cards included; phones are listed as text",
	CardMentions: true,
	NewBuilder:   func(senders.Options) senders.Builder { return New() },
}

const name = "Lark"

// Builder renders Lark messages.
type Builder struct {
	plainText bool
}

// Option adjusts a Builder.
type Option func(*Builder)

// WithPlainText sends TEXT alerts as msg_type text instead of post.
func WithPlainText() Option { return func(b *Builder) { b.plainText = true } }

// New returns a Lark builder.
func New(opts ...Option) *Builder {
	b := &Builder{}
	for _, o := range opts {
		o(b)
	}
	return b
}

type payload struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Content   any    `json:"content,omitempty"`
	Card      any    `json:"card,omitempty"`
}

type textContent struct {
	Text string `json:"text"`
}

type element struct {
	Tag    string `json:"tag"`
	Text   string `json:"text,omitempty"`
	Href   string `json:"href,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

type postContent struct {
	Post map[string]post `json:"post"`
}

type post struct {
	Title   string      `json:"title"`
	Content [][]element `json:"content"`
}

// card is a JSON 1.0 card: what MARKDOWN sends, since every client shows it.
type card struct {
	Config   cardConfig    `json:"config"`
	Header   cardHeader    `json:"header"`
	Elements []cardElement `json:"elements"`
}

type cardConfig struct {
	WideScreenMode bool `json:"wide_screen_mode"`
}

type cardHeader struct {
	Template string    `json:"template"`
	Title    plainText `json:"title"`
}

type plainText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type cardElement struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

// cardV2 is a JSON 2.0 card: what CARD sends, for its buttons. 2.0 refuses the whole card for a
// property or tag it does not know, so every field here is one the schema names.
type cardV2 struct {
	Schema string       `json:"schema"`
	Config cardV2Config `json:"config"`
	Header cardV2Header `json:"header"`
	Body   cardV2Body   `json:"body"`
}

type cardV2Config struct {
	WidthMode string `json:"width_mode"`
}

type cardV2Header struct {
	Title    plainText `json:"title"`
	Template string    `json:"template"`
}

type cardV2Body struct {
	Elements []v2Element `json:"elements"`
}

// v2Element is a markdown, hr or button element; each sets only its own fields.
type v2Element struct {
	Tag       string     `json:"tag"`
	Content   string     `json:"content,omitempty"`
	Text      *plainText `json:"text,omitempty"`
	Type      string     `json:"type,omitempty"`
	Behaviors []behavior `json:"behaviors,omitempty"`
}

type behavior struct {
	Type       string `json:"type"`
	DefaultURL string `json:"default_url"`
}

// Templates are card header colours.
var templates = map[senders.Severity]string{
	senders.Info:     "blue",
	senders.Warning:  "orange",
	senders.Critical: "red",
}

// template is the card header's colour: the severity's, or green once resolved.
func template(m senders.Message) string {
	if m.Resolved {
		return "green"
	}
	return templates[m.Severity]
}

// FallbackTooBig says why a CARD went as markdown.
const FallbackTooBig = "the card does not fit Lark's 19000 bytes even without content"

// Build renders m. With a secret, timestamp (seconds, as a string) and sign
// go in the body beside msg_type.
func (b *Builder) Build(t senders.Robot, m senders.Message, now time.Time) (senders.Request, error) {
	heading := senders.Heading(m, t.Keyword)
	var base payload
	if t.Secret != "" {
		ts := now.Unix()
		base.Timestamp = strconv.FormatInt(ts, 10)
		base.Sign = Sign(t.Secret, ts)
	}
	var req senders.Request
	var err error
	if m.Format == senders.Card {
		req, err = b.card(base, t, heading, m)
		if senders.IsTooBig(err) {
			// Buttons and fields are what the card adds; the markdown card drops links as it must.
			req, err = b.message(base, t, heading, m, senders.Markdown)
			req.Fallback = FallbackTooBig
		}
	} else {
		req, err = b.message(base, t, heading, m, m.Format)
	}
	if err != nil {
		return senders.Request{}, err
	}
	req.URL = t.URL
	return req, nil
}

// footer repeats the keyword in the body unless the body already says it: Lark checks keywords
// in text values and titles, and which of them it reads is not documented.
func footer(t senders.Robot, shown string) string {
	if t.Keyword != "" && !strings.Contains(shown, t.Keyword) {
		return "[" + t.Keyword + "]"
	}
	return ""
}

// message renders text, post or a markdown card. Heading, links and mentions sit outside the part
// that is cut, so they survive any content.
func (b *Builder) message(p payload, t senders.Robot, heading string, m senders.Message, format senders.Format) (senders.Request, error) {
	render := func(content string, links []senders.Link) ([]byte, error) {
		foot := footer(t, content)
		switch {
		case format == senders.Markdown:
			p.MsgType, p.Content = "interactive", nil
			p.Card = &card{
				Config: cardConfig{WideScreenMode: true},
				Header: cardHeader{Template: template(m), Title: plainText{Tag: "plain_text", Content: heading}},
				Elements: []cardElement{{Tag: "markdown", Content: joinLines(content,
					senders.MarkdownLinks(links), cardMentions(m), foot)}},
			}
		case b.plainText:
			p.MsgType = "text"
			p.Content = textContent{Text: joinLines(heading, content, senders.TextLinks(links),
				mentionLine(m, `<at user_id="all">All</at>`, func(id string) string { return `<at user_id="` + id + `"></at>` }), foot)}
		default:
			p.MsgType = "post"
			var paras [][]element
			if content != "" {
				paras = append(paras, []element{{Tag: "text", Text: content}})
			}
			// A post links natively: each link is a paragraph of its own.
			for _, l := range senders.UsableLinks(links) {
				paras = append(paras, []element{{Tag: "a", Text: l.Text, Href: l.URL}})
			}
			var mention []element
			if m.MentionAll {
				mention = append(mention, element{Tag: "at", UserID: "all"})
			}
			for _, id := range m.MentionUserIDs {
				mention = append(mention, element{Tag: "at", UserID: id})
			}
			if len(m.MentionPhones) > 0 {
				mention = append(mention, element{Tag: "text", Text: " " + senders.MentionLine(m.MentionPhones)})
			}
			if mention != nil {
				paras = append(paras, mention)
			}
			if foot != "" {
				paras = append(paras, []element{{Tag: "text", Text: foot}})
			}
			if paras == nil {
				paras = [][]element{}
			}
			p.Content = postContent{Post: map[string]post{"zh_cn": {Title: heading, Content: paras}}}
		}
		return senders.EncodeJSON(p)
	}
	content, links, truncated, err := senders.FitWithLinks(m.Content, m.Links, MaxBodyBytes, func(c string, l []senders.Link) (int, error) {
		body, err := render(c, l)
		return len(body), err
	})
	if err != nil {
		return senders.Request{}, fmt.Errorf("lark %s: %w", strings.ToLower(string(format)), err)
	}
	body, err := render(content, links)
	if err != nil {
		return senders.Request{}, err
	}
	return senders.Request{Body: body, Truncated: truncated}, nil
}

// card renders a JSON 2.0 card: the content (or one block per section of a coalesced message),
// the fields, the mentions, and a button per link. Sections that do not fit give way to the joined
// content, which is cut to fit; a card that does not fit even without content is errTooBig, for
// Build to send as markdown.
func (b *Builder) card(p payload, t senders.Robot, heading string, m senders.Message) (senders.Request, error) {
	links := senders.UsableLinks(m.Links)
	var fields []string
	for _, f := range m.Fields {
		fields = append(fields, senders.JoinNonEmpty(": ", senders.Bold(f.Name), senders.OneLine(f.Value)))
	}
	fieldLines := strings.Join(fields, "\n")
	p.MsgType = "interactive"
	render := func(blocks []string) ([]byte, error) {
		c := &cardV2{
			Schema: "2.0",
			Config: cardV2Config{WidthMode: "fill"},
			Header: cardV2Header{Title: plainText{Tag: "plain_text", Content: heading}, Template: template(m)},
			Body:   cardV2Body{Elements: []v2Element{}},
		}
		tail := joinLines(fieldLines, cardMentions(m), footer(t, strings.Join(blocks, "\n")))
		if len(blocks) == 1 {
			// One alert: its fields and mentions read as part of it.
			blocks, tail = []string{joinLines(blocks[0], tail)}, ""
		}
		for i, block := range blocks {
			if i > 0 {
				c.Body.Elements = append(c.Body.Elements, v2Element{Tag: "hr"})
			}
			if block != "" {
				c.Body.Elements = append(c.Body.Elements, v2Element{Tag: "markdown", Content: block})
			}
		}
		if tail != "" {
			c.Body.Elements = append(c.Body.Elements, v2Element{Tag: "markdown", Content: tail})
		}
		for i, l := range links {
			kind := "default"
			if i == 0 {
				kind = "primary_filled"
			}
			c.Body.Elements = append(c.Body.Elements, v2Element{
				Tag: "button", Text: &plainText{Tag: "plain_text", Content: l.Text}, Type: kind,
				Behaviors: []behavior{{Type: "open_url", DefaultURL: l.URL}},
			})
		}
		p.Card = c
		return senders.EncodeJSON(p)
	}
	if len(m.Sections) > 0 {
		blocks := make([]string, len(m.Sections))
		for i, s := range m.Sections {
			blocks[i] = joinLines(senders.Bold(s.Heading), s.Content)
		}
		body, err := render(blocks)
		if err != nil {
			return senders.Request{}, err
		}
		if len(body) <= MaxBodyBytes {
			return senders.Request{Body: body}, nil
		}
	}
	content, truncated, err := senders.Fit(m.Content, MaxBodyBytes, func(c string) (int, error) {
		body, err := render([]string{c})
		return len(body), err
	})
	if err != nil {
		return senders.Request{}, fmt.Errorf("lark card: %w", err)
	}
	body, err := render([]string{content})
	if err != nil {
		return senders.Request{}, err
	}
	return senders.Request{Body: body, Truncated: truncated}, nil
}

// cardMentions is the mention line of card markdown.
func cardMentions(m senders.Message) string {
	return mentionLine(m, `<at id=all></at>`, func(id string) string { return "<at id=" + id + "></at>" })
}

// mentionLine mentions everyone and each user id in the format's markup, and lists phones as
// text: a custom bot cannot mention by mobile, but readers see who should act.
func mentionLine(m senders.Message, all string, id func(string) string) string {
	var parts []string
	if m.MentionAll {
		parts = append(parts, all)
	}
	for _, u := range m.MentionUserIDs {
		parts = append(parts, id(u))
	}
	if l := senders.MentionLine(m.MentionPhones); l != "" {
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

func joinLines(lines ...string) string { return senders.JoinNonEmpty("\n", lines...) }

// Sign returns Lark's signature for a timestamp in seconds. Unlike DingTalk,
// timestamp+"\n"+secret is the HMAC key and the message is empty; using the
// secret as the key is the common mistake, and Lark rejects it.
func Sign(secret string, timestampSeconds int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestampSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Classify reads Lark's answer: newer bots send code/msg (and StatusCode),
// older ones only StatusCode/StatusMessage, errors only code/msg.
func (b *Builder) Classify(status int, body []byte) senders.Result {
	var ans struct {
		Code          *int   `json:"code"`
		Msg           string `json:"msg"`
		StatusCode    *int   `json:"StatusCode"`
		StatusMessage string `json:"StatusMessage"`
	}
	parsed := bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Unmarshal(body, &ans) == nil
	a := senders.Answer{Parsed: parsed, Code: ans.Code, Message: ans.Msg}
	if (ans.Code == nil || *ans.Code == 0) && ans.StatusCode != nil && *ans.StatusCode != 0 {
		a.Code, a.Message = ans.StatusCode, ans.StatusMessage
	}
	return senders.Verdict(name, status, a, decide)
}

func decide(code int, msg string) (senders.Outcome, time.Duration) {
	switch {
	case code == CodeFrequency:
		return senders.Retryable, 0
	case code == CodeBadRequest && strings.Contains(strings.ToLower(msg), "too many request"):
		// 9499 is documented as Bad Request but also carries rate limiting.
		return senders.Retryable, 0
	}
	// 19021 signature, 19022 IP, 19024 keyword, 9499 Bad Request, token
	// errors and anything unknown will fail again the same way.
	return senders.Permanent, 0
}
