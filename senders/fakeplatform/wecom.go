package fakeplatform

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
)

// WeCom answers; real errmsgs carry a hint suffix, kept here so that
// classifiers are tested against it.
func weComVerdict(code int, msg string) verdict {
	if code == 0 {
		return verdict{0, "ok"}
	}
	return verdict{code, fmt.Sprintf("%s, hint: [1700000000_fake], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=%d", msg, code)}
}

func (s *Server) wecom(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("key")
	rb, body, ok := s.begin(w, r, token)
	if !ok {
		return
	}
	v, rec := s.judgeWeCom(r, rb, token, body)
	if v.code != 0 {
		s.reject(token, v.code)
	} else {
		s.accept(rec)
	}
	writeJSON(w, map[string]any{"errcode": v.code, "errmsg": v.msg})
}

func (s *Server) judgeWeCom(r *http.Request, rb *robot, token string, body []byte) (verdict, Received) {
	if rb == nil || rb.Platform != senders.WeCom || r.Method != http.MethodPost {
		return weComVerdict(93000, "invalid webhook url"), Received{}
	}
	var msg struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content             string   `json:"content"`
			MentionedList       []string `json:"mentioned_list"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		} `json:"text"`
		Markdown *struct {
			Content string `json:"content"`
		} `json:"markdown"`
		TemplateCard *wcTemplateCard `json:"template_card"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return weComVerdict(40008, "invalid message type"), Received{}
	}
	var content string
	var mobiles, ids, links []string
	limit := 0
	switch {
	case msg.MsgType == "text" && msg.Text != nil:
		content, mobiles, ids, limit = msg.Text.Content, msg.Text.MentionedMobileList, msg.Text.MentionedList, WeComMaxText
	case msg.MsgType == "markdown" && msg.Markdown != nil:
		content, limit = msg.Markdown.Content, WeComMaxMarkdown
		for _, m := range wcMarkdownMention.FindAllStringSubmatch(content, -1) {
			ids = append(ids, m[1])
		}
	case msg.MsgType == "template_card" && msg.TemplateCard != nil:
		var problem string
		if content, links, problem = msg.TemplateCard.check(); problem != "" {
			return weComVerdict(40058, "invalid Request Parameter, "+problem), Received{}
		}
	default:
		return weComVerdict(40008, "invalid message type"), Received{}
	}
	if limit > 0 {
		if content == "" {
			return weComVerdict(44004, "empty content"), Received{}
		}
		if len(content) > limit {
			return weComVerdict(40058, "content exceed max length"), Received{}
		}
	}
	atAll := slices.Contains(mobiles, "@all") || slices.Contains(ids, "@all")
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "@all" })
	now := s.now()
	if !s.DisableRateLimits && !rb.allow(now, 0, WeComPerMinute, 0) {
		return weComVerdict(45009, "api freq out of limit"), Received{}
	}
	return weComVerdict(0, ""), Received{
		Platform:  senders.WeCom,
		Token:     token,
		At:        now,
		MsgType:   msg.MsgType,
		Text:      content,
		Body:      body,
		Mobiles:   mobiles,
		UserIDs:   ids,
		AtAll:     atAll,
		Links:     links,
		UserAgent: r.UserAgent(),
	}
}

// wcMarkdownMention is how WeCom markdown (v1) mentions a user id.
var wcMarkdownMention = regexp.MustCompile(`<@([^<>\s]+)>`)

type wcTemplateCard struct {
	CardType string `json:"card_type"`
	Source   *struct {
		IconURL   string `json:"icon_url"`
		Desc      string `json:"desc"`
		DescColor int    `json:"desc_color"`
	} `json:"source"`
	MainTitle *struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"main_title"`
	EmphasisContent *struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"emphasis_content"`
	SubTitleText          string `json:"sub_title_text"`
	HorizontalContentList []struct {
		KeyName string `json:"keyname"`
		Value   string `json:"value"`
		Type    int    `json:"type"`
		URL     string `json:"url"`
	} `json:"horizontal_content_list"`
	JumpList []struct {
		Type  int    `json:"type"`
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"jump_list"`
	CardAction *struct {
		Type int    `json:"type"`
		URL  string `json:"url"`
	} `json:"card_action"`
}

// Limits of a text_notice card, in characters: WeCom documents them as recommendations, the
// fake enforces them so that a sender which passes here shows everything it sent.
const (
	WeComCardTitle      = 26
	WeComCardTitleDesc  = 30
	WeComCardSubTitle   = 112
	WeComCardSourceDesc = 13
	WeComCardEmphasis   = 10
	WeComCardEmphDesc   = 15
	WeComCardFields     = 6
	WeComCardKeyName    = 5
	WeComCardValue      = 26
	WeComCardJumps      = 3
	WeComCardJumpTitle  = 13
)

// check applies WeCom's rules for a text_notice card (others are not faked). It returns what the
// card shows, the URLs it opens (card_action first), and the problem WeCom would name, if any.
func (c *wcTemplateCard) check() (string, []string, string) {
	var shown, links []string
	long := func(field, v string, max int) string {
		if utf8.RuneCountInString(v) > max {
			return fmt.Sprintf("template_card.%s exceed max length %d", field, max)
		}
		if v != "" {
			shown = append(shown, v)
		}
		return ""
	}
	if c.CardType != "text_notice" {
		return "", nil, "template_card.card_type invalid"
	}
	var problems []string
	if c.Source != nil {
		problems = append(problems, long("source.desc", c.Source.Desc, WeComCardSourceDesc))
	}
	title := ""
	if c.MainTitle != nil {
		title = c.MainTitle.Title
		problems = append(problems, long("main_title.title", c.MainTitle.Title, WeComCardTitle),
			long("main_title.desc", c.MainTitle.Desc, WeComCardTitleDesc))
	}
	if c.EmphasisContent != nil {
		problems = append(problems, long("emphasis_content.title", c.EmphasisContent.Title, WeComCardEmphasis),
			long("emphasis_content.desc", c.EmphasisContent.Desc, WeComCardEmphDesc))
	}
	problems = append(problems, long("sub_title_text", c.SubTitleText, WeComCardSubTitle))
	if title == "" && c.SubTitleText == "" {
		problems = append(problems, "template_card.main_title.title or template_card.sub_title_text missing")
	}
	if len(c.HorizontalContentList) > WeComCardFields {
		problems = append(problems, fmt.Sprintf("template_card.horizontal_content_list exceed max size %d", WeComCardFields))
	}
	for i, h := range c.HorizontalContentList {
		if h.KeyName == "" {
			problems = append(problems, fmt.Sprintf("template_card.horizontal_content_list[%d].keyname missing", i))
		}
		problems = append(problems, long(fmt.Sprintf("horizontal_content_list[%d].keyname", i), h.KeyName, WeComCardKeyName),
			long(fmt.Sprintf("horizontal_content_list[%d].value", i), h.Value, WeComCardValue))
	}
	switch {
	case c.CardAction == nil:
		problems = append(problems, "template_card.card_action missing")
	case c.CardAction.Type != 1:
		problems = append(problems, "template_card.card_action.type invalid")
	case !httpURL(c.CardAction.URL):
		problems = append(problems, "template_card.card_action.url invalid")
	default:
		links = append(links, c.CardAction.URL)
	}
	if len(c.JumpList) > WeComCardJumps {
		problems = append(problems, fmt.Sprintf("template_card.jump_list exceed max size %d", WeComCardJumps))
	}
	for i, j := range c.JumpList {
		switch {
		case j.Title == "":
			problems = append(problems, fmt.Sprintf("template_card.jump_list[%d].title missing", i))
		case j.Type == 1 && httpURL(j.URL):
			links = append(links, j.URL)
		case j.Type != 0: // 0 is a line that opens nothing; mini-programs are not faked
			problems = append(problems, fmt.Sprintf("template_card.jump_list[%d].url invalid", i))
		}
		problems = append(problems, long(fmt.Sprintf("jump_list[%d].title", i), j.Title, WeComCardJumpTitle))
	}
	for _, p := range problems {
		if p != "" {
			return "", nil, p
		}
	}
	return strings.Join(shown, "\n"), links, ""
}
