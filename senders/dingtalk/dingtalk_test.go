package dingtalk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
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
			MentionPhones: []string{"13800000000"},
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
		for _, must := range []string{"连接池耗尽 pool exhausted", "SchedulerX", "ops", "truncated 内容已截断", "@13800000000"} {
			if !strings.Contains(string(s), must) {
				t.Errorf("%s: %q did not survive truncation", f, must)
			}
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
