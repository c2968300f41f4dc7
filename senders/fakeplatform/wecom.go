package fakeplatform

import (
	"encoding/json"
	"fmt"
	"net/http"

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
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		} `json:"text"`
		Markdown *struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return weComVerdict(40008, "invalid message type"), Received{}
	}
	var content string
	var mobiles []string
	limit := 0
	switch {
	case msg.MsgType == "text" && msg.Text != nil:
		content, mobiles, limit = msg.Text.Content, msg.Text.MentionedMobileList, WeComMaxText
	case msg.MsgType == "markdown" && msg.Markdown != nil:
		content, limit = msg.Markdown.Content, WeComMaxMarkdown
	default:
		return weComVerdict(40008, "invalid message type"), Received{}
	}
	if content == "" {
		return weComVerdict(44004, "empty content"), Received{}
	}
	if len(content) > limit {
		return weComVerdict(40058, "content exceed max length"), Received{}
	}
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
		UserAgent: r.UserAgent(),
	}
}
