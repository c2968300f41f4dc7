// Package wecom renders alerts for WeCom (企业微信) group robots and reads
// their answers.
//
// TEXT alerts use msgtype text, with user ids in mentioned_list and mobiles
// in mentioned_mobile_list ("@all" for everyone). MARKDOWN alerts use msgtype
// markdown, coloured by severity, mentioning user ids as <@userid>; WeCom
// markdown cannot mention by mobile or everyone, so a markdown alert that
// asks for those is sent as text instead: waking the right people matters
// more than formatting.
//
// A CARD is a text_notice template_card when the whole alert fits its tiny
// limits, and markdown otherwise (Request.Fallback says why). A card cannot
// mention, so one that mentions is followed by a text message that does.
package wecom

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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
	Mentions: "@ by user id (mentioned_list), mobile number (mentioned_mobile_list) or everyone in text; " +
		"by user id only in markdown (a markdown message mentioning mobiles or everyone goes as text); " +
		"a CARD (template_card) cannot mention, so its mentions follow in a text message",
	NewBuilder: func(senders.Options) senders.Builder { return New() },
}

const name = "WeCom"

// Builder renders WeCom messages.
type Builder struct{}

// New returns a WeCom builder.
func New() *Builder { return &Builder{} }

type text struct {
	Content             string   `json:"content"`
	MentionedList       []string `json:"mentioned_list,omitempty"`
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

type markdown struct {
	Content string `json:"content"`
}

type payload struct {
	MsgType      string        `json:"msgtype"`
	Text         *text         `json:"text,omitempty"`
	Markdown     *markdown     `json:"markdown,omitempty"`
	TemplateCard *templateCard `json:"template_card,omitempty"`
}

// templateCard is a text_notice card. Its lengths are WeCom's recommended maxima in characters;
// the card shows only what fits them, so a message is sent as a card only when nothing is cut.
type templateCard struct {
	CardType              string       `json:"card_type"`
	Source                cardSource   `json:"source"`
	MainTitle             mainTitle    `json:"main_title"`
	SubTitleText          string       `json:"sub_title_text,omitempty"`
	HorizontalContentList []horizontal `json:"horizontal_content_list,omitempty"`
	JumpList              []jump       `json:"jump_list,omitempty"`
	CardAction            cardAction   `json:"card_action"`
}

type cardSource struct {
	Desc      string `json:"desc"`
	DescColor int    `json:"desc_color"`
}

type mainTitle struct {
	Title string `json:"title,omitempty"`
	Desc  string `json:"desc,omitempty"`
}

type horizontal struct {
	KeyName string `json:"keyname"`
	Value   string `json:"value"`
}

type jump struct {
	Type  int    `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type cardAction struct {
	Type int    `json:"type"`
	URL  string `json:"url"`
}

// A text_notice card's limits, in characters.
const (
	MaxCardTitle      = 26
	MaxCardTitleDesc  = 30
	MaxCardSubTitle   = 112
	MaxCardSourceDesc = 13
	MaxCardFields     = 6
	MaxCardKeyName    = 5
	MaxCardValue      = 26
	MaxCardJumps      = 3
	MaxCardJumpTitle  = 13
)

// cardSourceDesc names the sender at the card's top.
const cardSourceDesc = "Herald"

// Colours of a card's source line.
const (
	descGrey  = 0
	descRed   = 2
	descGreen = 3
)

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
	var req senders.Request
	var err error
	if m.Format == senders.Card {
		req, err = b.card(t, m)
	} else {
		req, err = b.message(t, m, m.Format)
	}
	if err != nil {
		return senders.Request{}, err
	}
	req.URL = t.URL
	if req.Companion != nil {
		req.Companion.URL = t.URL
	}
	return req, nil
}

// message renders markdown, or text when markdown cannot carry the mentions. Heading, links and
// mentions sit outside the part that is cut, so they survive any content.
func (b *Builder) message(t senders.Robot, m senders.Message, format senders.Format) (senders.Request, error) {
	heading := senders.Heading(m, t.Keyword)
	if format == senders.Markdown && len(m.MentionPhones) == 0 && !m.MentionAll && !b.idsCrowdMarkdown(m) {
		head := `### <font color="` + colour(m) + `">` + heading + "</font>\n"
		ids := make([]string, len(m.MentionUserIDs))
		for i, id := range m.MentionUserIDs {
			ids[i] = "<@" + id + ">"
		}
		render := func(content string, links []senders.Link) string {
			return head + joinLines(content, senders.MarkdownLinks(links), strings.Join(ids, " "))
		}
		content, links, truncated, err := senders.FitWithLinks(m.Content, m.Links, MaxMarkdownBytes, func(c string, l []senders.Link) (int, error) {
			return len(render(c, l)), nil
		})
		if err != nil {
			return senders.Request{}, fmt.Errorf("wecom markdown: %w", err)
		}
		return encode(payload{MsgType: "markdown", Markdown: &markdown{Content: render(content, links)}}, truncated)
	}
	render := func(content string, links []senders.Link) string {
		return joinLines(heading, content, senders.TextLinks(links))
	}
	content, links, truncated, err := senders.FitWithLinks(m.Content, m.Links, MaxTextBytes, func(c string, l []senders.Link) (int, error) {
		return len(render(c, l)), nil
	})
	if err != nil {
		return senders.Request{}, fmt.Errorf("wecom text: %w", err)
	}
	mobiles := append([]string(nil), m.MentionPhones...)
	if m.MentionAll {
		mobiles = append(mobiles, "@all")
	}
	return encode(payload{MsgType: "text", Text: &text{
		Content: render(content, links), MentionedList: m.MentionUserIDs, MentionedMobileList: mobiles,
	}}, truncated)
}

// idsCrowdMarkdown reports whether the mentions would leave markdown less room than text has: text
// carries them in mentioned_list, outside its content, so a crowd of ids goes as text.
func (b *Builder) idsCrowdMarkdown(m senders.Message) bool {
	n := 0
	for _, id := range m.MentionUserIDs {
		n += len("<@> ") + len(id)
	}
	return n > MaxMarkdownBytes-MaxTextBytes
}

func encode(p payload, truncated bool) (senders.Request, error) {
	body, err := senders.EncodeJSON(p)
	if err != nil {
		return senders.Request{}, err
	}
	return senders.Request{Body: body, Truncated: truncated}, nil
}

// card renders a text_notice template_card, or says why m cannot be one: WeCom's card limits are
// a few dozen characters, and a card that cut the alert short would hide what the markdown shows.
func (b *Builder) card(t senders.Robot, m senders.Message) (senders.Request, error) {
	tc, reason := cardOf(t, m)
	if reason != "" {
		// The markdown rendering mentions by itself (as text when it must): no companion.
		req, err := b.message(t, m, senders.Markdown)
		req.Fallback = reason
		return req, err
	}
	req, err := encode(payload{MsgType: "template_card", TemplateCard: tc}, false)
	if err != nil || !m.Mentions() {
		return req, err
	}
	// template_card cannot mention anyone (as far as WeCom documents): a text message does.
	ids := append([]string(nil), m.MentionUserIDs...)
	if m.MentionAll {
		ids = append(ids, "@all")
	}
	companion, err := encode(payload{MsgType: "text", Text: &text{
		Content: senders.Heading(m, t.Keyword), MentionedList: ids, MentionedMobileList: m.MentionPhones,
	}}, false)
	if err != nil {
		return senders.Request{}, err
	}
	req.Companion = &companion
	return req, nil
}

// cardOf is m as a text_notice card, or the reason it cannot be one without losing some of it.
func cardOf(t senders.Robot, m senders.Message) (*templateCard, string) {
	title := m.Title
	if t.Keyword != "" && !strings.Contains(title, t.Keyword) {
		title = strings.TrimSpace(title + " [" + t.Keyword + "]")
	}
	links := senders.UsableLinks(m.Links)
	switch {
	case len(m.Sections) > 0:
		return nil, "a WeCom card shows one alert, not several"
	case len(links) == 0:
		return nil, "no link for the WeCom card's action"
	case utf8.RuneCountInString(title) > MaxCardTitle:
		return nil, fmt.Sprintf("title longer than a WeCom card's %d characters", MaxCardTitle)
	case utf8.RuneCountInString(m.Content) > MaxCardSubTitle:
		return nil, fmt.Sprintf("content longer than a WeCom card's %d characters", MaxCardSubTitle)
	case len(m.Fields) > MaxCardFields:
		return nil, fmt.Sprintf("more than a WeCom card's %d fields", MaxCardFields)
	}
	tc := &templateCard{
		CardType:     "text_notice",
		Source:       cardSource{Desc: cardSourceDesc, DescColor: descColor(m)},
		MainTitle:    mainTitle{Title: title, Desc: m.Label()},
		SubTitleText: m.Content,
		CardAction:   cardAction{Type: 1, URL: links[0].URL},
	}
	for _, f := range m.Fields {
		name, value := strings.TrimSpace(f.Name), strings.TrimSpace(f.Value)
		switch {
		case name == "":
			return nil, "a field without a name"
		case utf8.RuneCountInString(name) > MaxCardKeyName:
			return nil, fmt.Sprintf("field name %q longer than a WeCom card's %d characters", name, MaxCardKeyName)
		case utf8.RuneCountInString(value) > MaxCardValue:
			return nil, fmt.Sprintf("field %q's value longer than a WeCom card's %d characters", name, MaxCardValue)
		}
		tc.HorizontalContentList = append(tc.HorizontalContentList, horizontal{KeyName: name, Value: value})
	}
	// The card opens the first link wherever it is tapped; the jump list shows the first three,
	// their labels shortened to fit (a label only names its URL, which is kept whole).
	for _, l := range links[:min(len(links), MaxCardJumps)] {
		tc.JumpList = append(tc.JumpList, jump{Type: 1, Title: cutChars(l.Text, MaxCardJumpTitle), URL: l.URL})
	}
	return tc, ""
}

func descColor(m senders.Message) int {
	switch {
	case m.Resolved:
		return descGreen
	case m.Severity == senders.Critical:
		return descRed
	}
	return descGrey
}

// cutChars shortens s to at most n characters, marking the cut with "…".
func cutChars(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func joinLines(lines ...string) string { return senders.JoinNonEmpty("\n", lines...) }

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
