package fakeplatform

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/senders"
)

// DingTalk answers, as the real robot API words them.
var (
	dtOK            = verdict{0, "ok"}
	dtNeedPost      = verdict{43002, "需要POST请求"}
	dtNoToken       = verdict{40035, "缺少参数 access_token"}
	dtBadJSON       = verdict{40035, "缺少参数 json"}
	dtTokenNotExist = verdict{300005, "token is not exist"}
	dtBadTimestamp  = verdict{310000, "invalid timestamp"}
	dtSignMismatch  = verdict{310000, "sign not match"}
	dtNoKeyword     = verdict{310000, "keywords not in content"}
	dtTooFast       = verdict{130101, "send too fast, exceed 20 times per minute"}
	dtTooLong       = verdict{460101, "message too long, exceed 20000 bytes"}
)

func (s *Server) dingtalk(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("access_token")
	rb, body, ok := s.begin(w, r, token)
	if !ok {
		return
	}
	v, rec := s.judgeDingTalk(r, rb, token, body)
	if v != dtOK {
		s.reject(token, v.code)
	} else {
		s.accept(rec)
	}
	writeJSON(w, map[string]any{"errcode": v.code, "errmsg": v.msg})
}

func (s *Server) judgeDingTalk(r *http.Request, rb *robot, token string, body []byte) (verdict, Received) {
	switch {
	case r.Method != http.MethodPost:
		return dtNeedPost, Received{}
	case token == "":
		return dtNoToken, Received{}
	case rb == nil || rb.Platform != senders.DingTalk:
		return dtTokenNotExist, Received{}
	}
	now := s.now()
	if rb.Secret != "" {
		q := r.URL.Query()
		ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil || !withinWindow(time.UnixMilli(ms), now) {
			return dtBadTimestamp, Received{}
		}
		// DingTalk: the secret is the key, timestamp+"\n"+secret the message.
		want := hmacB64(rb.Secret, q.Get("timestamp")+"\n"+rb.Secret)
		// Query() has already URL-decoded sign, as DingTalk does.
		if !hmac.Equal([]byte(want), []byte(q.Get("sign"))) {
			return dtSignMismatch, Received{}
		}
	}
	if len(body) > DingTalkMaxBody {
		return dtTooLong, Received{}
	}
	var msg struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown *struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
		ActionCard *dtActionCard `json:"actionCard"`
		At         struct {
			AtMobiles []string `json:"atMobiles"`
			AtUserIDs []string `json:"atUserIds"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return dtBadJSON, Received{}
	}
	// Which markdown field DingTalk searches for keywords is unconfirmed, so
	// the fake demands them in both: a sender that passes here passes there.
	var checked, links []string
	switch {
	case msg.MsgType == "text" && msg.Text != nil && msg.Text.Content != "":
		checked = []string{msg.Text.Content}
	case msg.MsgType == "markdown" && msg.Markdown != nil && msg.Markdown.Title != "" && msg.Markdown.Text != "":
		checked = []string{msg.Markdown.Title, msg.Markdown.Text}
	case msg.MsgType == "actionCard" && msg.ActionCard != nil:
		var v verdict
		if links, v = msg.ActionCard.check(); v != dtOK {
			return v, Received{}
		}
		// Like markdown: the keyword in the title alone or the text alone is not trusted.
		checked = []string{msg.ActionCard.Title, msg.ActionCard.Text}
	default:
		return dtBadJSON, Received{}
	}
	if len(rb.Keywords) > 0 {
		for _, c := range checked {
			if !containsAny(c, rb.Keywords) {
				return dtNoKeyword, Received{}
			}
		}
	}
	if !s.DisableRateLimits && !rb.allow(now, 0, DingTalkPerMinute, DingTalkThrottle) {
		return dtTooFast, Received{}
	}
	return dtOK, Received{
		Platform:  senders.DingTalk,
		Token:     token,
		At:        now,
		MsgType:   msg.MsgType,
		Text:      strings.Join(checked, "\n"),
		Body:      body,
		Mobiles:   msg.At.AtMobiles,
		UserIDs:   msg.At.AtUserIDs,
		AtAll:     msg.At.IsAtAll,
		Links:     links,
		UserAgent: r.UserAgent(),
	}
}

type dtActionCard struct {
	Title       string `json:"title"`
	Text        string `json:"text"`
	SingleTitle string `json:"singleTitle"`
	SingleURL   string `json:"singleURL"`
	Btns        []struct {
		Title     string `json:"title"`
		ActionURL string `json:"actionURL"`
	} `json:"btns"`
}

// check is DingTalk's rule for an actionCard: a title, a text, and a button, either one
// (singleTitle and singleURL, which win over btns) or a list. It returns the buttons' URLs.
func (c *dtActionCard) check() ([]string, verdict) {
	missing := func(field string) verdict { return verdict{40035, "缺少参数 actionCard." + field} }
	switch {
	case c.Title == "":
		return nil, missing("title")
	case c.Text == "":
		return nil, missing("text")
	case c.SingleTitle != "" || c.SingleURL != "":
		if c.SingleTitle == "" {
			return nil, missing("singleTitle")
		}
		if !httpURL(c.SingleURL) {
			return nil, missing("singleURL")
		}
		return []string{c.SingleURL}, dtOK
	case len(c.Btns) == 0:
		return nil, missing("singleURL")
	}
	var links []string
	for i, b := range c.Btns {
		if b.Title == "" {
			return nil, missing(fmt.Sprintf("btns[%d].title", i))
		}
		if !httpURL(b.ActionURL) {
			return nil, missing(fmt.Sprintf("btns[%d].actionURL", i))
		}
		links = append(links, b.ActionURL)
	}
	return links, dtOK
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
