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

// Lark answers, as the real bot API words them.
var (
	lkTokenInvalid = verdict{19001, "param invalid: incoming webhook access token invalid"}
	lkBadRequest   = verdict{9499, "Bad Request"}
	lkSignFail     = verdict{19021, "sign match fail or timestamp is not within one hour from current time"}
	lkNoKeyword    = verdict{19024, "Key Words Not Found"}
	lkFrequency    = verdict{11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}
)

func (s *Server) lark(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	rb, body, ok := s.begin(w, r, token)
	if !ok {
		return
	}
	v, rec := s.judgeLark(r, rb, token, body)
	if v.code != 0 {
		s.reject(token, v.code)
		writeJSON(w, map[string]any{"code": v.code, "data": map[string]any{}, "msg": v.msg})
		return
	}
	s.accept(rec)
	writeJSON(w, map[string]any{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": map[string]any{}, "msg": "success"})
}

func (s *Server) judgeLark(r *http.Request, rb *robot, token string, body []byte) (verdict, Received) {
	if rb == nil || rb.Platform != senders.Lark {
		return lkTokenInvalid, Received{}
	}
	if r.Method != http.MethodPost || len(body) > LarkMaxBody {
		return lkBadRequest, Received{}
	}
	var msg struct {
		Timestamp any             `json:"timestamp"`
		Sign      string          `json:"sign"`
		MsgType   string          `json:"msg_type"`
		Content   json.RawMessage `json:"content"`
		Card      json.RawMessage `json:"card"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return lkBadRequest, Received{}
	}
	now := s.now()
	if rb.Secret != "" {
		// The timestamp must be a string of seconds; a number or milliseconds
		// (DingTalk's habit) fails like a bad signature.
		ts, _ := msg.Timestamp.(string)
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || !withinWindow(time.Unix(sec, 0), now) {
			return lkSignFail, Received{}
		}
		// Lark: timestamp+"\n"+secret is the key, the message is empty.
		want := hmacB64(ts+"\n"+rb.Secret, "")
		if !hmac.Equal([]byte(want), []byte(msg.Sign)) {
			return lkSignFail, Received{}
		}
	}
	var shown []string
	switch msg.MsgType {
	case "text":
		var c struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(msg.Content, &c) != nil || c.Text == "" {
			return lkBadRequest, Received{}
		}
		shown = []string{c.Text}
	case "post":
		var c struct {
			Post map[string]any `json:"post"`
		}
		if json.Unmarshal(msg.Content, &c) != nil || (c.Post["zh_cn"] == nil && c.Post["en_us"] == nil) {
			return lkBadRequest, Received{}
		}
		texts(c.Post, "", &shown)
	case "interactive":
		var c map[string]any
		// The card must be a JSON object, not a string holding one.
		if json.Unmarshal(msg.Card, &c) != nil || c == nil {
			return lkBadRequest, Received{}
		}
		texts(c, "", &shown)
	default:
		return lkBadRequest, Received{}
	}
	if len(rb.Keywords) > 0 && !containsAny(strings.Join(shown, "\n"), rb.Keywords) {
		return lkNoKeyword, Received{}
	}
	if !s.DisableRateLimits && !rb.allow(now, LarkPerSecond, LarkPerMinute, 0) {
		return lkFrequency, Received{}
	}
	return verdict{}, Received{
		Platform:  senders.Lark,
		Token:     token,
		At:        now,
		MsgType:   msg.MsgType,
		Text:      strings.Join(shown, "\n"),
		Body:      body,
		UserAgent: r.UserAgent(),
	}
}
