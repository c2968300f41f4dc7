// Package dingtalk renders alerts for DingTalk custom robots and reads their
// answers.
//
// Every message carries the configured keyword (SchedulerX by default) and
// the robot's own keyword, in the title and in the body, because a robot
// protected by keyword rejects a message without it and DingTalk does not
// say which markdown field it checks.
package dingtalk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
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
	Mentions:     "@ by mobile number (atMobiles) or everyone (isAtAll)",
	NewBuilder:   func(o senders.Options) senders.Builder { return New(o.Keyword) },
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

type payload struct {
	MsgType  string        `json:"msgtype"`
	Text     *textBody     `json:"text,omitempty"`
	Markdown *markdownBody `json:"markdown,omitempty"`
	At       at            `json:"at"`
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

// Build renders m for the robot at t. With a secret it appends timestamp (ms)
// and sign to the URL.
func (b *Builder) Build(t senders.Robot, m senders.Message, now time.Time) (senders.Request, error) {
	heading := senders.Heading(m, b.keyword, t.Keyword)
	mention := senders.MentionLine(m.MentionPhones)
	p := payload{At: at{AtMobiles: m.MentionPhones, AtUserIDs: []string{}, IsAtAll: m.MentionAll}}
	if p.At.AtMobiles == nil {
		p.At.AtMobiles = []string{}
	}
	render := func(content string) ([]byte, error) {
		switch m.Format {
		case senders.Markdown:
			p.MsgType = "markdown"
			text := "### <font color=\"" + colour(m) + "\">" + heading + "</font>\n\n" + content
			if mention != "" {
				text += "\n\n" + mention
			}
			p.Markdown = &markdownBody{Title: heading, Text: text}
		default:
			p.MsgType = "text"
			text := heading
			if content != "" {
				text += "\n" + content
			}
			if mention != "" {
				text += "\n" + mention
			}
			p.Text = &textBody{Content: text}
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
	u := t.URL
	if t.Secret != "" {
		u, err = signURL(u, t.Secret, now)
		if err != nil {
			return senders.Request{}, err
		}
	}
	return senders.Request{URL: u, Body: body, Truncated: truncated}, nil
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
