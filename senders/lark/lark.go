// Package lark renders alerts for Lark / Feishu custom bots and reads their
// answers.
//
// MARKDOWN alerts are interactive cards whose header colour follows severity.
// TEXT alerts are rich-text posts, because a post has a real title line and
// the plain text type has none; WithPlainText switches them to msg_type text.
// Custom bots can mention everyone but not a mobile number (only user ids),
// so phones are listed as "@138…" text for readers to see who should act.
package lark

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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
	Mentions:     "@ everyone; people only by user id, so phones are listed as text",
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
	Card      *card  `json:"card,omitempty"`
}

type textContent struct {
	Text string `json:"text"`
}

type element struct {
	Tag    string `json:"tag"`
	Text   string `json:"text,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

type postContent struct {
	Post map[string]post `json:"post"`
}

type post struct {
	Title   string      `json:"title"`
	Content [][]element `json:"content"`
}

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

// Build renders m. With a secret, timestamp (seconds, as a string) and sign
// go in the body beside msg_type.
func (b *Builder) Build(t senders.Robot, m senders.Message, now time.Time) (senders.Request, error) {
	heading := senders.Heading(m, t.Keyword)
	var p payload
	if t.Secret != "" {
		ts := now.Unix()
		p.Timestamp = strconv.FormatInt(ts, 10)
		p.Sign = Sign(t.Secret, ts)
	}
	render := func(content string) ([]byte, error) {
		// Lark checks keywords in text values and titles; the heading has it,
		// and the body gets it too unless the content already says it.
		footer := ""
		if t.Keyword != "" && !strings.Contains(content, t.Keyword) {
			footer = "[" + t.Keyword + "]"
		}
		switch {
		case m.Format == senders.Markdown:
			p.MsgType, p.Content = "interactive", nil
			p.Card = &card{
				Config: cardConfig{WideScreenMode: true},
				Header: cardHeader{Template: template(m), Title: plainText{Tag: "plain_text", Content: heading}},
				Elements: []cardElement{{Tag: "markdown", Content: joinLines(content,
					mentionLine(m, `<at id=all></at>`), footer)}},
			}
		case b.plainText:
			p.MsgType = "text"
			p.Content = textContent{Text: joinLines(heading, content,
				mentionLine(m, `<at user_id="all">All</at>`), footer)}
		default:
			p.MsgType = "post"
			var paras [][]element
			if content != "" {
				paras = append(paras, []element{{Tag: "text", Text: content}})
			}
			var mention []element
			if m.MentionAll {
				mention = append(mention, element{Tag: "at", UserID: "all"})
			}
			if len(m.MentionPhones) > 0 {
				mention = append(mention, element{Tag: "text", Text: " " + senders.MentionLine(m.MentionPhones)})
			}
			if mention != nil {
				paras = append(paras, mention)
			}
			if footer != "" {
				paras = append(paras, []element{{Tag: "text", Text: footer}})
			}
			if paras == nil {
				paras = [][]element{}
			}
			p.Content = postContent{Post: map[string]post{"zh_cn": {Title: heading, Content: paras}}}
		}
		return senders.EncodeJSON(p)
	}
	content, truncated, err := senders.Fit(m.Content, MaxBodyBytes, func(c string) (int, error) {
		body, err := render(c)
		return len(body), err
	})
	if err != nil {
		return senders.Request{}, err
	}
	body, err := render(content)
	if err != nil {
		return senders.Request{}, err
	}
	return senders.Request{URL: t.URL, Body: body, Truncated: truncated}, nil
}

func mentionLine(m senders.Message, all string) string {
	var parts []string
	if m.MentionAll {
		parts = append(parts, all)
	}
	if l := senders.MentionLine(m.MentionPhones); l != "" {
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

func joinLines(lines ...string) string {
	var kept []string
	for _, l := range lines {
		if l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

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
