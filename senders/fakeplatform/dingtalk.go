package fakeplatform

import (
	"crypto/hmac"
	"encoding/json"
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
		At struct {
			AtMobiles []string `json:"atMobiles"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return dtBadJSON, Received{}
	}
	// Which markdown field DingTalk searches for keywords is unconfirmed, so
	// the fake demands them in both: a sender that passes here passes there.
	var checked []string
	switch {
	case msg.MsgType == "text" && msg.Text != nil && msg.Text.Content != "":
		checked = []string{msg.Text.Content}
	case msg.MsgType == "markdown" && msg.Markdown != nil && msg.Markdown.Title != "" && msg.Markdown.Text != "":
		checked = []string{msg.Markdown.Title, msg.Markdown.Text}
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
		AtAll:     msg.At.IsAtAll,
		UserAgent: r.UserAgent(),
	}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
