package fakeplatform

import (
	"crypto/hmac"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
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
	lkBadCard      = verdict{19002, "params error, unknown card value"}
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
	var shown, links, mentioned []string
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
		atElements(c.Post, &mentioned)
	case "interactive":
		var c map[string]any
		// The card must be a JSON object, not a string holding one.
		if json.Unmarshal(msg.Card, &c) != nil || c == nil {
			return lkBadRequest, Received{}
		}
		var v verdict
		if links, v = checkCard(c); v != (verdict{}) {
			return v, Received{}
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
	for _, m := range larkAtMarkup.FindAllStringSubmatch(strings.Join(shown, "\n"), -1) {
		mentioned = append(mentioned, strings.Split(m[1], ",")...)
	}
	atAll := slices.Contains(mentioned, "all")
	return verdict{}, Received{
		Platform:  senders.Lark,
		Token:     token,
		At:        now,
		MsgType:   msg.MsgType,
		Text:      strings.Join(shown, "\n"),
		Body:      body,
		UserIDs:   slices.DeleteFunc(mentioned, func(id string) bool { return id == "all" }),
		AtAll:     atAll,
		Links:     links,
		UserAgent: r.UserAgent(),
	}
}

// larkAtMarkup finds the people a text or card mentions: <at user_id="ou_x">Name</at> in text,
// <at id=ou_x></at> or <at ids=ou_a,ou_b></at> in card markdown.
var larkAtMarkup = regexp.MustCompile(`<at (?:user_id|id|ids)="?([^"\s>]+)"?\s*>`)

// atElements collects the user_id of a post's at elements.
func atElements(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if x["tag"] == "at" {
			if id, ok := x["user_id"].(string); ok {
				*out = append(*out, id)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			atElements(x[k], out)
		}
	case []any:
		for _, e := range x {
			atElements(e, out)
		}
	}
}

// larkColours are the header templates Lark documents.
var larkColours = []string{"blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine",
	"violet", "purple", "indigo", "grey", "default"}

// larkV2Keys are a JSON 2.0 card's top-level properties; 2.0 refuses the card for any other.
var larkV2Keys = []string{"schema", "config", "header", "body", "card_link"}

// larkV2Tags are the body elements the fake knows; 2.0 refuses the card for a tag it does not.
var larkV2Tags = []string{"markdown", "button", "hr", "div", "column_set"}

// checkCard applies what Lark checks of a card: a JSON 1.0 card (no schema, elements at the top)
// is taken as 1.0 takes it, ignoring what it does not know; a 2.0 card must use only the known
// properties and tags, and its buttons must open an http(s) URL. It returns the buttons' URLs.
func checkCard(c map[string]any) ([]string, verdict) {
	if h, ok := c["header"].(map[string]any); ok {
		if tmpl, set := h["template"]; set {
			if s, _ := tmpl.(string); !slices.Contains(larkColours, s) {
				return nil, lkBadCard
			}
		}
	}
	schema, set := c["schema"]
	if !set {
		return nil, verdict{}
	}
	if schema != "2.0" {
		return nil, lkBadCard
	}
	for k := range c {
		if !slices.Contains(larkV2Keys, k) {
			return nil, lkBadCard
		}
	}
	body, _ := c["body"].(map[string]any)
	elements, ok := body["elements"].([]any)
	if !ok {
		return nil, lkBadCard
	}
	var links []string
	for _, e := range elements {
		el, _ := e.(map[string]any)
		tag, _ := el["tag"].(string)
		if !slices.Contains(larkV2Tags, tag) {
			return nil, lkBadCard
		}
		if tag != "button" {
			continue
		}
		text, _ := el["text"].(map[string]any)
		behaviors, _ := el["behaviors"].([]any)
		if content, _ := text["content"].(string); content == "" || len(behaviors) == 0 {
			return nil, lkBadCard
		}
		first, _ := behaviors[0].(map[string]any)
		u, _ := first["default_url"].(string)
		if !httpURL(u) {
			return nil, lkBadCard
		}
		links = append(links, u)
	}
	return links, verdict{}
}
