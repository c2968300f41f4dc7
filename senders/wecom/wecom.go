// Package wecom renders alerts for WeCom (企业微信) group robots and reads
// their answers.
//
// TEXT alerts use msgtype text, with mentions in mentioned_mobile_list
// ("@all" for everyone). MARKDOWN alerts use msgtype markdown, coloured by
// severity; WeCom markdown cannot mention by mobile or everyone, so a
// markdown alert that asks for mentions is sent as text instead: waking the
// right people matters more than formatting.
package wecom

import (
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/senders"
)

// Content limits in bytes; WeCom answers 40058 beyond them.
const (
	MaxTextBytes     = 2048
	MaxMarkdownBytes = 4096
)

// RateLimitDelay is a suggestion for 45009: WeCom counts 20 messages per
// minute, so a minute always frees the window.
const RateLimitDelay = time.Minute

// Platform codes with a meaning for retries.
const (
	CodeOK             = 0
	CodeFreqOutOfLimit = 45009
	CodeInvalidWebhook = 93000
	CodeEmptyContent   = 44004
	CodeInvalidMsgType = 40008
	CodeContentTooLong = 40058
)

// Descriptor is WeCom as the rest of Herald knows it.
var Descriptor = senders.Descriptor{
	Platform:    senders.WeCom,
	Name:        name,
	Label:       "WeCom",
	Hosts:       []string{"qyapi.weixin.qq.com"},
	WebhookPath: "/cgi-bin/webhook/send",
	TokenParam:  "key",
	// 20 messages a minute per robot, with the same margin as DingTalk's window.
	Windows:      []senders.Window{{Limit: 20, Span: 62 * time.Second, Reserve: 5}},
	MaxBodyBytes: MaxMarkdownBytes,
	Mentions:     "@ by mobile number (mentioned_mobile_list) or everyone, in text messages only",
	NewBuilder:   func(senders.Options) senders.Builder { return New() },
}

const name = "WeCom"

// Builder renders WeCom messages.
type Builder struct{}

// New returns a WeCom builder.
func New() *Builder { return &Builder{} }

type text struct {
	Content             string   `json:"content"`
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

type markdown struct {
	Content string `json:"content"`
}

type payload struct {
	MsgType  string    `json:"msgtype"`
	Text     *text     `json:"text,omitempty"`
	Markdown *markdown `json:"markdown,omitempty"`
}

// colours are the three WeCom offers: info is green, comment grey, warning
// orange-red.
var colours = map[senders.Severity]string{
	senders.Info:     "info",
	senders.Warning:  "comment",
	senders.Critical: "warning",
}

// colour is the heading's colour: the severity's, or green ("info") once resolved.
func colour(m senders.Message) string {
	if m.Resolved {
		return "info"
	}
	return colours[m.Severity]
}

// Build renders m. WeCom has no signature: the key in the URL is the only
// credential, so t.Secret is ignored.
func (b *Builder) Build(t senders.Robot, m senders.Message, _ time.Time) (senders.Request, error) {
	heading := senders.Heading(m, t.Keyword)
	mentions := len(m.MentionPhones) > 0 || m.MentionAll
	var p payload
	var content string
	var truncated bool
	var err error
	if m.Format == senders.Markdown && !mentions {
		head := `### <font color="` + colour(m) + `">` + heading + "</font>\n"
		content, truncated, err = senders.Fit(m.Content, MaxMarkdownBytes, func(c string) (int, error) {
			return len(head + c), nil
		})
		p = payload{MsgType: "markdown", Markdown: &markdown{Content: head + content}}
	} else {
		content, truncated, err = senders.Fit(m.Content, MaxTextBytes, func(c string) (int, error) {
			return len(joinText(heading, c)), nil
		})
		list := append([]string(nil), m.MentionPhones...)
		if m.MentionAll {
			list = append(list, "@all")
		}
		p = payload{MsgType: "text", Text: &text{Content: joinText(heading, content), MentionedMobileList: list}}
	}
	if err != nil {
		return senders.Request{}, err
	}
	body, err := senders.EncodeJSON(p)
	if err != nil {
		return senders.Request{}, err
	}
	return senders.Request{URL: t.URL, Body: body, Truncated: truncated}, nil
}

func joinText(heading, content string) string {
	if content == "" {
		return heading
	}
	return heading + "\n" + content
}

// Classify reads WeCom's {"errcode":…,"errmsg":…}; errmsg often carries a
// ", hint: […]" suffix, kept verbatim.
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
	if code == CodeFreqOutOfLimit {
		return senders.Retryable, RateLimitDelay
	}
	// 93000 (bad key, removed robot), 44004, 40008, 40058 and anything
	// unknown will fail again the same way.
	return senders.Permanent, 0
}
