package dingtalk

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

const hook = "https://oapi.dingtalk.com/robot/send?access_token=tok"

func build(t *testing.T, b *Builder, tg senders.Robot, m senders.Message) senders.Request {
	t.Helper()
	m, err := m.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	req, err := b.Build(tg, m, time.UnixMilli(1700000000000))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTextMessageMentionsByPhoneInTextAndAtList(t *testing.T) {
	req := build(t, New(""), senders.Robot{URL: hook}, senders.Message{
		Title: "Disk full", Content: "磁盘 /data 使用率 97%", Severity: senders.Critical,
		MentionPhones: []string{"13800000000", "13900000000"},
	})
	want := `{"msgtype":"text","text":{"content":"[CRITICAL 严重] Disk full [SchedulerX]\n磁盘 /data 使用率 97%\n@13800000000 @13900000000"},"at":{"atMobiles":["13800000000","13900000000"],"atUserIds":[],"isAtAll":false}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
	if req.URL != hook || req.Truncated {
		t.Fatalf("unsigned request changed URL or truncated: %+v", req)
	}
}

func TestMarkdownMessageHasKeywordInTitleAndText(t *testing.T) {
	req := build(t, New("SchedulerX"), senders.Robot{URL: hook, Keyword: "ops"}, senders.Message{
		Title: "CPU high", Content: "see [dashboard](https://grafana.example.com/d/1)", Severity: senders.Warning,
		Format: senders.Markdown, MentionAll: true,
	})
	var p struct {
		MsgType  string
		Markdown struct{ Title, Text string }
		At       struct{ IsAtAll bool }
	}
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.MsgType != "markdown" || !p.At.IsAtAll {
		t.Fatalf("payload %s", req.Body)
	}
	if p.Markdown.Title != "[WARNING 警告] CPU high [SchedulerX] [ops]" {
		t.Fatalf("title %q", p.Markdown.Title)
	}
	for _, kw := range []string{"SchedulerX", "ops", "[dashboard](https://grafana.example.com/d/1)", "WARNING 警告"} {
		if !strings.Contains(p.Markdown.Text, kw) {
			t.Errorf("markdown text lacks %q: %q", kw, p.Markdown.Text)
		}
	}
}

func TestKeywordIsCaseSensitiveAndConfigurable(t *testing.T) {
	req := build(t, New("Alarm"), senders.Robot{URL: hook}, senders.Message{Title: "alarm raised"})
	if !strings.Contains(string(req.Body), "alarm raised [Alarm]") {
		t.Fatalf("a keyword differing in case was treated as present: %s", req.Body)
	}
}

func TestSignMatchesThePublishedVector(t *testing.T) {
	if got := Sign("secret", 1700000000000); got != "OuzzJR5+xZ4/EYwqtNt6sMYZQMTa/HEGvc9miJe7XzY=" {
		t.Fatalf("Sign = %s", got)
	}
}

func TestSignedURLCarriesMillisecondTimestampAndEncodedSign(t *testing.T) {
	req := build(t, New(""), senders.Robot{URL: hook + "&timestamp=1&sign=stale", Secret: "secret"}, senders.Message{Title: "t"})
	want := hook + "&timestamp=1700000000000&sign=OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
	if req.URL != want {
		t.Fatalf("URL\n got %s\nwant %s", req.URL, want)
	}
}

func TestLongChineseContentIsCutToTwentyThousandBytes(t *testing.T) {
	content := strings.Repeat("数据库连接池耗尽，请检查。", 2000) // ~78,000 bytes
	for _, f := range []senders.Format{senders.Text, senders.Markdown} {
		req := build(t, New(""), senders.Robot{URL: hook, Keyword: "ops"}, senders.Message{
			Title: "连接池耗尽 pool exhausted", Content: content, Severity: senders.Critical, Format: f,
			MentionPhones: []string{"13800000000"}, MentionUserIDs: []string{"manager0001"},
		})
		if len(req.Body) > MaxBodyBytes || len(req.Body) < MaxBodyBytes-200 {
			t.Fatalf("%s body is %d bytes; want just under %d", f, len(req.Body), MaxBodyBytes)
		}
		if !req.Truncated || !utf8.Valid(req.Body) || !json.Valid(req.Body) {
			t.Fatalf("%s: truncated=%v valid utf8=%v json=%v", f, req.Truncated, utf8.Valid(req.Body), json.Valid(req.Body))
		}
		var p map[string]any
		json.Unmarshal(req.Body, &p)
		shown := p["text"]
		if f == senders.Markdown {
			shown = p["markdown"]
		}
		s, _ := json.Marshal(shown)
		for _, must := range []string{"连接池耗尽 pool exhausted", "SchedulerX", "ops", "truncated 内容已截断", "@13800000000", "@manager0001"} {
			if !strings.Contains(string(s), must) {
				t.Errorf("%s: %q did not survive truncation", f, must)
			}
		}
		if ids, _ := json.Marshal(p["at"].(map[string]any)["atUserIds"]); string(ids) != `["manager0001"]` {
			t.Errorf("%s: atUserIds %s after truncation", f, ids)
		}
	}
}

func TestClassifyReadsEveryDingTalkCode(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   senders.Outcome
		delay  time.Duration
	}{
		{200, `{"errcode":0,"errmsg":"ok"}`, senders.Sent, 0},
		{200, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, senders.Retryable, 10 * time.Minute},
		{200, `{"errcode":410100,"errmsg":"send too fast"}`, senders.Retryable, 10 * time.Minute},
		{200, `{"errcode":310000,"errmsg":"keywords not in content"}`, senders.Permanent, 0},
		{200, `{"errcode":310000,"errmsg":"invalid timestamp"}`, senders.Permanent, 0},
		{200, `{"errcode":310000,"errmsg":"sign not match"}`, senders.Permanent, 0},
		{200, `{"errcode":310000,"errmsg":"ip 1.2.3.4 not in whitelist"}`, senders.Permanent, 0},
		{200, `{"errcode":300005,"errmsg":"token is not exist"}`, senders.Permanent, 0},
		{200, `{"errcode":40035,"errmsg":"缺少参数 access_token"}`, senders.Permanent, 0},
		{200, `{"errcode":43002,"errmsg":"需要POST请求"}`, senders.Permanent, 0},
		{200, `{"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}`, senders.Permanent, 0},
		{200, `{"errcode":999999,"errmsg":"new"}`, senders.Permanent, 0},
		{502, `<html>bad gateway</html>`, senders.Retryable, 0},
		{429, ``, senders.Retryable, 0},
		{200, `<html>login</html>`, senders.Permanent, 0},
		{200, `{"status":"ok"}`, senders.Permanent, 0},
		{404, `not found`, senders.Permanent, 0},
	}
	b := New("")
	for _, c := range cases {
		r := b.Classify(c.status, []byte(c.body))
		if r.Outcome != c.want || r.RetryAfter != c.delay {
			t.Errorf("Classify(%d, %s) = %v after %v (%v); want %v after %v", c.status, c.body, r.Outcome, r.RetryAfter, r.Err, c.want, c.delay)
		}
		if c.want != senders.Sent && r.Err == nil {
			t.Errorf("Classify(%d, %s) failed without an error", c.status, c.body)
		}
	}
	r := b.Classify(200, []byte(`{"errcode":310000,"errmsg":"keywords not in content"}`))
	if r.PlatformCode == nil || *r.PlatformCode != 310000 || r.PlatformMessage != "keywords not in content" ||
		!strings.Contains(r.Err.Error(), "310000") || !strings.Contains(r.Err.Error(), "keywords not in content") {
		t.Fatalf("failure does not carry the code and message verbatim: %+v", r)
	}
}

// fake starts the fake DingTalk with a signed robot protected by the default keyword; its clock is
// the builder's in build.
func fake(t *testing.T) (*fakeplatform.Server, senders.Robot) {
	t.Helper()
	srv := fakeplatform.New()
	srv.Now = func() time.Time { return time.UnixMilli(1700000000000) }
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u := srv.AddRobot(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt", Secret: "SECret", Keywords: []string{DefaultKeyword}})
	return srv, senders.Robot{URL: u, Secret: "SECret"}
}

// send posts a request as the notifier would and returns DingTalk's errcode and errmsg.
func send(t *testing.T, req senders.Request) (int, string) {
	t.Helper()
	resp, err := http.Post(req.URL, "application/json;charset=utf-8", strings.NewReader(string(req.Body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %v", resp.StatusCode, err)
	}
	return ans.ErrCode, ans.ErrMsg
}

type cardPayload struct {
	MsgType    string `json:"msgtype"`
	ActionCard struct {
		Title, Text, SingleTitle, SingleURL, BtnOrientation string
		Btns                                                []struct{ Title, ActionURL string }
	} `json:"actionCard"`
	Markdown struct{ Title, Text string }
	Text     struct{ Content string }
	At       *struct {
		AtMobiles, AtUserIds []string
		IsAtAll              bool
	}
}

func decode(t *testing.T, body []byte) cardPayload {
	t.Helper()
	var p cardPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return p
}

func TestTextAndMarkdownMentionUserIDsInTextAndAtList(t *testing.T) {
	req := build(t, New(""), senders.Robot{URL: hook}, senders.Message{
		Title: "Disk full", Content: "磁盘满了", MentionPhones: []string{"13800000000"}, MentionUserIDs: []string{"u123", "u456", "u123"},
	})
	want := `{"msgtype":"text","text":{"content":"[INFO 提示] Disk full [SchedulerX]\n磁盘满了\n@13800000000 @u123 @u456"},"at":{"atMobiles":["13800000000"],"atUserIds":["u123","u456"],"isAtAll":false}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
	srv, robot := fake(t)
	for _, f := range []senders.Format{senders.Text, senders.Markdown} {
		req := build(t, New(""), robot, senders.Message{Title: "Disk full", Content: "c", Format: f, MentionUserIDs: []string{"u123"}})
		if code, msg := send(t, req); code != 0 {
			t.Fatalf("%s answered %d %s", f, code, msg)
		}
		p := decode(t, req.Body)
		if !strings.Contains(p.Text.Content+p.Markdown.Text, "@u123") {
			t.Errorf("%s: the text does not say @u123: %s", f, req.Body)
		}
	}
	got := srv.Received("dt")
	if len(got) != 2 || got[0].MsgType != "text" || got[1].MsgType != "markdown" {
		t.Fatalf("received %+v", got)
	}
	for _, r := range got {
		if strings.Join(r.UserIDs, ",") != "u123" {
			t.Errorf("%s mentioned %v; want u123", r.MsgType, r.UserIDs)
		}
	}
}

func TestLinksFollowTheContentOutsideTheCutPart(t *testing.T) {
	links := []senders.Link{
		{Text: "Runbook", URL: "https://wiki.example.com/disk"},
		{Text: "evil", URL: "javascript:alert(1)"},
		{Text: "Dash (prod)", URL: "https://grafana.example.com/d/1?a=(b)"},
	}
	text := decode(t, build(t, New(""), senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "c", Links: links}).Body)
	if want := "[INFO 提示] t [SchedulerX]\nc\nRunbook: https://wiki.example.com/disk\nDash (prod): https://grafana.example.com/d/1?a=(b)"; text.Text.Content != want {
		t.Errorf("text\n got %q\nwant %q", text.Text.Content, want)
	}
	md := decode(t, build(t, New(""), senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "c", Links: links, Format: senders.Markdown}).Body)
	if want := "\n\nc\n\n[Runbook](https://wiki.example.com/disk) · [Dash (prod)](https://grafana.example.com/d/1?a=%28b%29)"; !strings.HasSuffix(md.Markdown.Text, want) {
		t.Errorf("markdown %q lacks the link line %q", md.Markdown.Text, want)
	}
	for _, f := range []senders.Format{senders.Text, senders.Markdown} {
		req := build(t, New(""), senders.Robot{URL: hook}, senders.Message{
			Title: "t", Content: strings.Repeat("长内容 ", 5000), Links: links, Format: f, MentionUserIDs: []string{"u1"},
		})
		if len(req.Body) > MaxBodyBytes || !req.Truncated || !strings.Contains(string(req.Body), "https://wiki.example.com/disk") ||
			!strings.Contains(string(req.Body), "@u1") || strings.Contains(string(req.Body), "javascript") {
			t.Errorf("%s: a cut message lost its links or mentions (%d bytes): ...%s", f, len(req.Body), req.Body[len(req.Body)-300:])
		}
	}
}

func TestCardIsAnActionCardTheFakeAccepts(t *testing.T) {
	srv, robot := fake(t)
	one := build(t, New(""), robot, senders.Message{
		Title: "Disk full", Content: "db1 95%", Severity: senders.Critical, Format: senders.Card,
		Links:  []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}},
		Fields: []senders.Field{{Name: "host", Value: "db1"}, {Name: "team", Value: "dba"}},
	})
	p := decode(t, one.Body)
	if p.MsgType != "actionCard" || p.At != nil || one.Fallback != "" || one.Companion != nil {
		t.Fatalf("not a bare actionCard: %+v %s", one, one.Body)
	}
	if p.ActionCard.Title != "[CRITICAL 严重] Disk full [SchedulerX]" || p.ActionCard.SingleTitle != "Runbook" ||
		p.ActionCard.SingleURL != "https://wiki.example.com/disk" || p.ActionCard.Btns != nil {
		t.Errorf("one-button card %s", one.Body)
	}
	wantText := "### <font color=\"#d93025\">[CRITICAL 严重] Disk full [SchedulerX]</font>\n\ndb1 95%\n\n- **host**: db1\n- **team**: dba"
	if p.ActionCard.Text != wantText {
		t.Errorf("text\n got %q\nwant %q", p.ActionCard.Text, wantText)
	}
	several := build(t, New(""), robot, senders.Message{
		Title: "Disk full", Content: "db1 95%", Format: senders.Card, Resolved: true,
		Links: []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}, {Text: "Silence", URL: "http://am.example.com/s"}},
	})
	p = decode(t, several.Body)
	if p.ActionCard.SingleURL != "" || p.ActionCard.BtnOrientation != "0" || len(p.ActionCard.Btns) != 2 ||
		p.ActionCard.Btns[1].Title != "Silence" || p.ActionCard.Btns[1].ActionURL != "http://am.example.com/s" ||
		!strings.Contains(p.ActionCard.Text, "#188038") {
		t.Errorf("several-button card %s", several.Body)
	}
	for _, req := range []senders.Request{one, several} {
		if code, msg := send(t, req); code != 0 {
			t.Fatalf("the fake refused the card: %d %s\n%s", code, msg, req.Body)
		}
	}
	got := srv.Received("dt")
	if len(got) != 2 || got[0].MsgType != "actionCard" || strings.Join(got[1].Links, " ") != "https://wiki.example.com/disk http://am.example.com/s" {
		t.Fatalf("received %+v", got)
	}
}

func TestCardThatMentionsIsFollowedByASignedTextCompanion(t *testing.T) {
	srv, robot := fake(t)
	m := senders.Message{
		Title: "Disk full", Content: "db1 95%", Format: senders.Card, MentionAll: true,
		MentionPhones: []string{"13800000000"}, MentionUserIDs: []string{"u123"},
		Links: []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}},
	}
	req := build(t, New(""), robot, m)
	if req.Companion == nil || Descriptor.Sends(m) != 2 {
		t.Fatalf("no companion for a card that mentions (Sends %d)", Descriptor.Sends(m))
	}
	c := decode(t, req.Companion.Body)
	if c.MsgType != "text" || c.Text.Content != "[INFO 提示] Disk full [SchedulerX]\n@13800000000 @u123" || c.At == nil ||
		strings.Join(c.At.AtUserIds, ",") != "u123" || strings.Join(c.At.AtMobiles, ",") != "13800000000" || !c.At.IsAtAll {
		t.Fatalf("companion %s", req.Companion.Body)
	}
	if req.Companion.URL != req.URL || !strings.Contains(req.URL, "&sign=") {
		t.Fatalf("companion URL %s, main %s", req.Companion.URL, req.URL)
	}
	if strings.Contains(string(req.Body), "u123") {
		t.Errorf("the actionCard carries mentions it cannot make: %s", req.Body)
	}
	for _, r := range []senders.Request{req, *req.Companion} {
		if code, msg := send(t, r); code != 0 {
			t.Fatalf("answered %d %s for %s", code, msg, r.Body)
		}
	}
	if got := srv.Received("dt"); len(got) != 2 || got[1].MsgType != "text" || strings.Join(got[1].UserIDs, ",") != "u123" || !got[1].AtAll {
		t.Fatalf("received %+v", got)
	}
	m.MentionAll, m.MentionPhones, m.MentionUserIDs = false, nil, nil
	if req := build(t, New(""), robot, m); req.Companion != nil || Descriptor.Sends(m) != 1 {
		t.Fatalf("a card without mentions has a companion: %+v", req)
	}
}

func TestCardWithoutLinksIsSentAsMarkdownThatMentions(t *testing.T) {
	req := build(t, New(""), senders.Robot{URL: hook}, senders.Message{
		Title: "t", Content: "c", Format: senders.Card, MentionUserIDs: []string{"u1"},
		Links: []senders.Link{{Text: "bad", URL: "ftp://example.com/x"}},
	})
	p := decode(t, req.Body)
	if req.Fallback != FallbackNoLinks || p.MsgType != "markdown" || req.Companion != nil ||
		p.At == nil || strings.Join(p.At.AtUserIds, ",") != "u1" || !strings.Contains(p.Markdown.Text, "@u1") {
		t.Fatalf("fallback %q companion %v body %s", req.Fallback, req.Companion, req.Body)
	}
}

func TestOversizeCardIsCutAndKeepsItsKeywordAndButtons(t *testing.T) {
	_, robot := fake(t)
	m := senders.Message{
		Title: "连接池耗尽", Content: strings.Repeat("数据库连接池耗尽，请检查。", 2000), Format: senders.Card,
		Links: []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/pool"}},
	}
	req := build(t, New(""), robot, m)
	p := decode(t, req.Body)
	if p.MsgType != "actionCard" || req.Fallback != "" || !req.Truncated || len(req.Body) > MaxBodyBytes || len(req.Body) < MaxBodyBytes-200 {
		t.Fatalf("%s, fallback %q, truncated %v, %d bytes", p.MsgType, req.Fallback, req.Truncated, len(req.Body))
	}
	if !strings.Contains(p.ActionCard.Title, DefaultKeyword) || !strings.Contains(p.ActionCard.Text, DefaultKeyword) ||
		!strings.HasSuffix(p.ActionCard.Text, senders.TruncationMarker) || p.ActionCard.SingleURL != "https://wiki.example.com/pool" {
		t.Fatalf("cut card lost its keyword, marker or button: ...%s", req.Body[len(req.Body)-300:])
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("answered %d %s", code, msg)
	}
}

func TestCardWhoseButtonsAloneExceedTheLimitIsSentAsMarkdown(t *testing.T) {
	_, robot := fake(t)
	var links []senders.Link
	for i := range senders.MaxLinks {
		links = append(links, senders.Link{Text: "link", URL: "https://example.com/" + strings.Repeat(string(rune('a'+i)), 2000)})
	}
	req := build(t, New(""), robot, senders.Message{Title: "t", Content: "c", Format: senders.Card, Links: links, MentionUserIDs: []string{"u1"}})
	p := decode(t, req.Body)
	if req.Fallback != FallbackTooBig || p.MsgType != "markdown" || len(req.Body) > MaxBodyBytes || !req.Truncated ||
		!strings.Contains(p.Markdown.Title, DefaultKeyword) || !strings.Contains(p.Markdown.Text, "@u1") || req.Companion != nil {
		t.Fatalf("fallback %q, %s, %d bytes, truncated %v", req.Fallback, p.MsgType, len(req.Body), req.Truncated)
	}
	if n := strings.Count(p.Markdown.Text, "](https://example.com/"); n == 0 || n == senders.MaxLinks {
		t.Fatalf("kept %d of the links; want as many as fit", n)
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("answered %d %s", code, msg)
	}
}

func TestCoalescedCardSeparatesItsSections(t *testing.T) {
	req := build(t, New(""), senders.Robot{URL: hook}, senders.Message{
		Title: "2 alerts", Content: "joined", Format: senders.Card,
		Sections: []senders.Section{{Heading: "Disk full", Content: "db1"}, {Heading: "CPU high", Content: "web1"}},
		Links:    []senders.Link{{Text: "Alertmanager", URL: "https://am.example.com"}},
	})
	p := decode(t, req.Body)
	if !strings.HasSuffix(p.ActionCard.Text, "\n\n**Disk full**\n\ndb1\n\n---\n\n**CPU high**\n\nweb1") || strings.Contains(p.ActionCard.Text, "joined") {
		t.Fatalf("text %q", p.ActionCard.Text)
	}
}

func TestFakeRefusesAnActionCardWithoutAButton(t *testing.T) {
	_, robot := fake(t)
	req := build(t, New(""), robot, senders.Message{Title: "t", Content: "c", Format: senders.Card,
		Links: []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com"}}})
	var p map[string]any
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	delete(p["actionCard"].(map[string]any), "singleURL")
	req.Body, _ = json.Marshal(p)
	if code, msg := send(t, req); code != 40035 || msg != "缺少参数 actionCard.singleURL" {
		t.Fatalf("answered %d %q; want 40035 naming actionCard.singleURL", code, msg)
	}
	if u, _ := url.Parse(req.URL); u.Query().Get("sign") == "" {
		t.Fatal("the refused card was not signed: the refusal proves nothing")
	}
}
