// Package dingtalk renders alerts for DingTalk custom robots and reads their
// answers.
//
// Every message carries the configured keyword (SchedulerX by default) and
// the robot's own keyword, in the title and in the body, because a robot
// protected by keyword rejects a message without it and DingTalk does not
// say which markdown field it checks.
//
// A CARD is an actionCard whose buttons are the message's links; it cannot
// mention anyone, so a card that mentions is followed by a short text message
// that does (Request.Companion).
package dingtalk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/senders"
)

// DefaultKeyword is SchedulerX's rule: robots protected by keyword use it.
const DefaultKeyword = "SchedulerX"

// MaxBodyBytes is DingTalk's message limit (460101 beyond it), applied to the
// whole JSON body since DingTalk does not say which part it measures.
const MaxBodyBytes = 20000

// ThrottleDelay is how long DingTalk silences a robot that exceeded 20
// messages per minute.
const ThrottleDelay = 10 * time.Minute

// Platform codes with a meaning for retries.
const (
	CodeOK            = 0
	CodeSendTooFast   = 130101
	CodeRateLimited   = 410100
	CodeSecurity      = 310000 // keyword, signature, timestamp or IP allow-list
	CodeTokenNotExist = 300005
	CodeTooLong       = 460101
)

// Descriptor is DingTalk as the rest of Herald knows it.
var Descriptor = senders.Descriptor{
	Platform:    senders.DingTalk,
	Name:        name,
	Label:       "DingTalk",
	Hosts:       []string{"oapi.dingtalk.com"},
	WebhookPath: "/robot/send",
	TokenParam:  "access_token",
	// 20 messages a minute per robot, counted over a longer window than DingTalk's: a message is
	// counted from when its answer arrived, and the network delay before DingTalk counted it could
	// otherwise put a 21st inside DingTalk's minute.
	Windows:      []senders.Window{{Limit: 20, Span: 62 * time.Second, Reserve: 5}},
	MaxBodyBytes: MaxBodyBytes,
	Mentions: "@ by user id (atUserIds), mobile number (atMobiles) or everyone (isAtAll) in text and markdown; " +
		"a CARD (actionCard) cannot mention, so its mentions follow in a text message",
	NewBuilder: func(o senders.Options) senders.Builder { return New(o.Keyword) },
}

const name = "DingTalk"

// Builder renders DingTalk messages.
type Builder struct {
	keyword string
}

// New returns a DingTalk builder whose messages always contain keyword
// (case-sensitive); an empty keyword means DefaultKeyword.
func New(keyword string) *Builder {
	if keyword == "" {
		keyword = DefaultKeyword
	}
	return &Builder{keyword: keyword}
}

type at struct {
	AtMobiles []string `json:"atMobiles"`
	AtUserIDs []string `json:"atUserIds"`
	IsAtAll   bool     `json:"isAtAll"`
}

type textBody struct {
	Content string `json:"content"`
}

type markdownBody struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

type actionCard struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	// One link is a single button; with singleTitle and singleURL set DingTalk ignores btns.
	SingleTitle    string   `json:"singleTitle,omitempty"`
	SingleURL      string   `json:"singleURL,omitempty"`
	Btns           []button `json:"btns,omitempty"`
	BtnOrientation string   `json:"btnOrientation,omitempty"`
}

type button struct {
	Title     string `json:"title"`
	ActionURL string `json:"actionURL"`
}

type payload struct {
	MsgType    string        `json:"msgtype"`
	Text       *textBody     `json:"text,omitempty"`
	Markdown   *markdownBody `json:"markdown,omitempty"`
	ActionCard *actionCard   `json:"actionCard,omitempty"`
	// DingTalk documents at for text and markdown only; an actionCard has none.
	At *at `json:"at,omitempty"`
}

// colours make severity visible at a glance in DingTalk markdown, which
// honours <font color>.
var colours = map[senders.Severity]string{
	senders.Info:     "#1a73e8",
	senders.Warning:  "#f29900",
	senders.Critical: "#d93025",
}

// colour is the heading's colour: the severity's, or green once resolved.
func colour(m senders.Message) string {
	if m.Resolved {
		return "#188038"
	}
	return colours[m.Severity]
}

// Fallback reasons of a CARD sent as markdown.
const (
	FallbackNoLinks = "no links for buttons"
	FallbackTooBig  = "the actionCard does not fit DingTalk's 20000 bytes even without content"
)

// Build renders m for the robot at t. With a secret it appends timestamp (ms)
// and sign to the URL.
func (b *Builder) Build(t senders.Robot, m senders.Message, now time.Time) (senders.Request, error) {
	heading := senders.Heading(m, b.keyword, t.Keyword)
	var req senders.Request
	var err error
	if m.Format == senders.Card {
		req, err = b.card(heading, m)
	} else {
		req, err = b.message(heading, m, m.Format)
	}
	if err != nil {
		return senders.Request{}, err
	}
	u := t.URL
	if t.Secret != "" {
		u, err = signURL(u, t.Secret, now)
		if err != nil {
			return senders.Request{}, err
		}
	}
	req.URL = u
	if req.Companion != nil {
		// Signed at the same instant: the companion follows within the hour DingTalk allows.
		req.Companion.URL = u
	}
	return req, nil
}

// mentions fills at for m and returns the "@…" line DingTalk needs in the text itself before it
// highlights a mobile or a user id.
func mentions(m senders.Message) (*at, string) {
	a := &at{AtMobiles: m.MentionPhones, AtUserIDs: m.MentionUserIDs, IsAtAll: m.MentionAll}
	if a.AtMobiles == nil {
		a.AtMobiles = []string{}
	}
	if a.AtUserIDs == nil {
		a.AtUserIDs = []string{}
	}
	return a, senders.MentionLine(slices.Concat(m.MentionPhones, m.MentionUserIDs))
}

// message renders text or markdown. Heading, links and mentions sit outside the part that is cut,
// so they survive any content.
func (b *Builder) message(heading string, m senders.Message, format senders.Format) (senders.Request, error) {
	a, mention := mentions(m)
	render := func(content string, links []senders.Link) ([]byte, error) {
		p := payload{At: a}
		if format == senders.Markdown {
			p.MsgType = "markdown"
			text := "### <font color=\"" + colour(m) + "\">" + heading + "</font>\n\n" + content
			for _, extra := range []string{senders.MarkdownLinks(links), mention} {
				if extra != "" {
					text += "\n\n" + extra
				}
			}
			p.Markdown = &markdownBody{Title: heading, Text: text}
		} else {
			p.MsgType = "text"
			text := heading
			for _, extra := range []string{content, senders.TextLinks(links), mention} {
				if extra != "" {
					text += "\n" + extra
				}
			}
			p.Text = &textBody{Content: text}
		}
		return senders.EncodeJSON(p)
	}
	content, links, truncated, err := senders.FitWithLinks(m.Content, m.Links, MaxBodyBytes, func(c string, l []senders.Link) (int, error) {
		body, err := render(c, l)
		return len(body), err
	})
	if err != nil {
		return senders.Request{}, fmt.Errorf("dingtalk %s: %w", strings.ToLower(string(format)), err)
	}
	body, err := render(content, links)
	if err != nil {
		return senders.Request{}, err
	}
	return senders.Request{Body: body, Truncated: truncated}, nil
}

// card renders an actionCard: the links are its buttons, so a message without any is sent as
// markdown, as is one whose buttons and heading alone exceed the size limit. An actionCard cannot
// mention anyone; its mentions follow in a companion text message.
func (b *Builder) card(heading string, m senders.Message) (senders.Request, error) {
	links := senders.UsableLinks(m.Links)
	if len(links) == 0 {
		return b.fallback(heading, m, FallbackNoLinks)
	}
	head := "### <font color=\"" + colour(m) + "\">" + heading + "</font>\n\n"
	var fields []string
	for _, f := range m.Fields {
		fields = append(fields, "- "+senders.JoinNonEmpty(": ", senders.Bold(f.Name), senders.OneLine(f.Value)))
	}
	render := func(content string) ([]byte, error) {
		text := head + content
		if len(fields) > 0 {
			text += "\n\n" + strings.Join(fields, "\n")
		}
		c := &actionCard{Title: heading, Text: text}
		if len(links) == 1 {
			c.SingleTitle, c.SingleURL = links[0].Text, links[0].URL
		} else {
			for _, l := range links {
				c.Btns = append(c.Btns, button{Title: l.Text, ActionURL: l.URL})
			}
			c.BtnOrientation = "0"
		}
		return senders.EncodeJSON(payload{MsgType: "actionCard", ActionCard: c})
	}
	var body []byte
	var truncated bool
	if len(m.Sections) > 0 {
		parts := make([]string, len(m.Sections))
		for i, s := range m.Sections {
			parts[i] = senders.JoinNonEmpty("\n\n", senders.Bold(s.Heading), s.Content)
		}
		var err error
		if body, err = render(strings.Join(parts, "\n\n---\n\n")); err != nil {
			return senders.Request{}, err
		}
	}
	if body == nil || len(body) > MaxBodyBytes {
		// Sections that do not fit give way to the joined content, which can be cut.
		content, cut, err := senders.Fit(m.Content, MaxBodyBytes, func(c string) (int, error) {
			body, err := render(c)
			return len(body), err
		})
		if senders.IsTooBig(err) {
			return b.fallback(heading, m, FallbackTooBig)
		}
		if err != nil {
			return senders.Request{}, fmt.Errorf("dingtalk actionCard: %w", err)
		}
		if body, err = render(content); err != nil {
			return senders.Request{}, err
		}
		truncated = cut
	}
	req := senders.Request{Body: body, Truncated: truncated}
	if m.Mentions() {
		a, mention := mentions(m)
		companion, err := senders.EncodeJSON(payload{MsgType: "text", Text: &textBody{Content: senders.JoinNonEmpty("\n", heading, mention)}, At: a})
		if err != nil {
			return senders.Request{}, err
		}
		req.Companion = &senders.Request{Body: companion}
	}
	return req, nil
}

// fallback sends a CARD as markdown, which mentions by itself: no companion is needed.
func (b *Builder) fallback(heading string, m senders.Message, reason string) (senders.Request, error) {
	req, err := b.message(heading, m, senders.Markdown)
	req.Fallback = reason
	return req, err
}

// Sign returns DingTalk's signature for a millisecond timestamp:
// base64(HMAC-SHA256(key=secret, msg=timestamp+"\n"+secret)), not URL-encoded.
func Sign(secret string, timestampMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signURL adds timestamp and sign, replacing any a user pasted with the URL
// (a stale signature would fail the one-hour window).
func signURL(raw, secret string, now time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	var kept []string
	for _, part := range strings.Split(u.RawQuery, "&") {
		k, _, _ := strings.Cut(part, "=")
		if part == "" || k == "timestamp" || k == "sign" {
			continue
		}
		kept = append(kept, part)
	}
	ts := now.UnixMilli()
	kept = append(kept, "timestamp="+strconv.FormatInt(ts, 10), "sign="+url.QueryEscape(Sign(secret, ts)))
	u.RawQuery = strings.Join(kept, "&")
	return u.String(), nil
}

// Classify reads DingTalk's {"errcode":…,"errmsg":…}.
func (b *Builder) Classify(status int, body []byte) senders.Result {
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	// An answer without errcode is not the platform's, whatever else it says.
	parsed := json.Unmarshal(body, &ans) == nil && ans.ErrCode != nil
	return senders.Verdict(name, status,
		senders.Answer{Parsed: parsed, Code: ans.ErrCode, Message: ans.ErrMsg}, decide)
}

func decide(code int, _ string) (senders.Outcome, time.Duration) {
	switch code {
	case CodeSendTooFast, CodeRateLimited:
		return senders.Retryable, ThrottleDelay
	}
	// 310000 (keyword, signature, IP), 300005, 40035, 43002, 460101 and
	// anything unknown: the configuration or the message is wrong, and the
	// same request will fail the same way.
	return senders.Permanent, 0
}
