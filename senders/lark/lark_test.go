package lark

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

const hook = "https://open.feishu.cn/open-apis/bot/v2/hook/tok"

func build(t *testing.T, b *Builder, tg senders.Robot, m senders.Message, now time.Time) senders.Request {
	t.Helper()
	m, err := m.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	req, err := b.Build(tg, m, now)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSignMatchesThePublishedVectors(t *testing.T) {
	for _, v := range []struct {
		secret string
		ts     int64
		want   string
	}{
		{"orbit-test-secret", 1756800000, "sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg="},
		{"demo", 1599360473, "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="},
	} {
		if got := Sign(v.secret, v.ts); got != v.want {
			t.Errorf("Sign(%s, %d) = %s; want %s", v.secret, v.ts, got, v.want)
		}
	}
}

func TestSignedBodyCarriesTimestampStringAndSignBesideMsgType(t *testing.T) {
	req := build(t, New(), senders.Robot{URL: hook, Secret: "orbit-test-secret"},
		senders.Message{Title: "t", Content: "c"}, time.Unix(1756800000, 0))
	if !strings.HasPrefix(string(req.Body), `{"timestamp":"1756800000","sign":"sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg=","msg_type":"post"`) {
		t.Fatalf("body %s", req.Body)
	}
	if req.URL != hook {
		t.Fatalf("Lark signs in the body, the URL changed: %s", req.URL)
	}
}

func TestTextAlertIsAPostWithTitleAndMentions(t *testing.T) {
	req := build(t, New(), senders.Robot{URL: hook, Keyword: "ops"}, senders.Message{
		Title: "Disk full", Content: "磁盘满了", Severity: senders.Critical, MentionAll: true, MentionPhones: []string{"13800000000"},
	}, time.Now())
	want := `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"[CRITICAL 严重] Disk full [ops]","content":[[{"tag":"text","text":"磁盘满了"}],[{"tag":"at","user_id":"all"},{"tag":"text","text":" @13800000000"}],[{"tag":"text","text":"[ops]"}]]}}}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
}

func TestPlainTextOptionUsesTextWithAtAll(t *testing.T) {
	req := build(t, New(WithPlainText()), senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "c", MentionAll: true}, time.Now())
	want := `{"msg_type":"text","content":{"text":"[INFO 提示] t\nc\n<at user_id=\"all\">All</at>"}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
}

func TestMarkdownAlertIsACardColouredBySeverity(t *testing.T) {
	for sev, colour := range map[senders.Severity]string{senders.Info: "blue", senders.Warning: "orange", senders.Critical: "red"} {
		req := build(t, New(), senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "**c**", Severity: sev, Format: senders.Markdown, MentionAll: true}, time.Now())
		want := `{"msg_type":"interactive","card":{"config":{"wide_screen_mode":true},"header":{"template":"` + colour +
			`","title":{"tag":"plain_text","content":"[` + sev.Label() + `] t"}},"elements":[{"tag":"markdown","content":"**c**\n<at id=all></at>"}]}}`
		if string(req.Body) != want {
			t.Errorf("%s body\n got %s\nwant %s", sev, req.Body, want)
		}
	}
}

func TestLongContentIsCutToNineteenThousandBytes(t *testing.T) {
	content := strings.Repeat("告警详情 details [链接](https://example.com/a?b=c) ", 1500)
	for _, f := range []senders.Format{senders.Text, senders.Markdown} {
		req := build(t, New(), senders.Robot{URL: hook, Secret: "s", Keyword: "ops"},
			senders.Message{Title: "标题", Content: content, Format: f}, time.Now())
		if len(req.Body) > MaxBodyBytes || len(req.Body) < MaxBodyBytes-200 || !req.Truncated || !utf8.Valid(req.Body) {
			t.Fatalf("%s body %d bytes, truncated=%v", f, len(req.Body), req.Truncated)
		}
		s := string(req.Body)
		if !strings.Contains(s, "[INFO 提示] 标题 [ops]") || !strings.Contains(s, "truncated 内容已截断") {
			t.Fatalf("%s lost title or marker", f)
		}
		if strings.Count(s, "[链接](") != strings.Count(s, "[链接](https://example.com/a?b=c)") {
			t.Fatalf("%s: a link was cut", f)
		}
	}
}

func TestClassifyReadsEveryLarkAnswer(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   senders.Outcome
	}{
		{200, `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`, senders.Sent},
		{200, `{"StatusCode":0,"StatusMessage":"success"}`, senders.Sent},
		{200, `{"code":0,"msg":"success"}`, senders.Sent},
		{200, `{}`, senders.Sent},
		{200, `{"code":11232,"msg":"frequency limited"}`, senders.Retryable},
		{200, `{"code":9499,"msg":"too many request"}`, senders.Retryable},
		{400, `{"code":9499,"msg":"Too Many Requests"}`, senders.Retryable},
		{200, `{"code":9499,"msg":"Bad Request"}`, senders.Permanent},
		{400, `{"code":9499,"msg":"Bad Request"}`, senders.Permanent},
		{200, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, senders.Permanent},
		{200, `{"code":19022,"msg":"Ip Not Allowed"}`, senders.Permanent},
		{200, `{"code":19024,"msg":"Key Words Not Found"}`, senders.Permanent},
		{200, `{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}`, senders.Permanent},
		{200, `{"StatusCode":19021,"StatusMessage":"sign match fail"}`, senders.Permanent},
		{200, `null`, senders.Permanent},
		{200, `<html/>`, senders.Permanent},
		{500, `{"code":0}`, senders.Retryable},
	}
	for _, c := range cases {
		r := New().Classify(c.status, []byte(c.body))
		if r.Outcome != c.want {
			t.Errorf("Classify(%d, %s) = %v (%v); want %v", c.status, c.body, r.Outcome, r.Err, c.want)
		}
	}
	r := New().Classify(200, []byte(`{"StatusCode":19021,"StatusMessage":"sign match fail"}`))
	if *r.PlatformCode != 19021 || r.PlatformMessage != "sign match fail" {
		t.Fatalf("old-style failure not carried: %+v", r)
	}
}

func TestFakeAcceptsTheRealSchemeAndRejectsSecretAsKey(t *testing.T) {
	srv := fakeplatform.New()
	srv.Now = func() time.Time { return time.Unix(1756800000, 0) }
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.AddRobot(fakeplatform.Robot{Platform: senders.Lark, Token: "orbit", Secret: "orbit-test-secret"})
	post := func(sign string) int {
		body := `{"timestamp":"1756800000","sign":"` + sign + `","msg_type":"text","content":{"text":"hi"}}`
		resp, err := http.Post(url, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ans struct{ Code int }
		json.NewDecoder(resp.Body).Decode(&ans)
		return ans.Code
	}
	if code := post("sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg="); code != 0 {
		t.Fatalf("real scheme answered %d", code)
	}
	if code := post("6VXBtILK/nYuQfUtYfSYr8twbb5yJkg0nurn1BuRwPw="); code != CodeSignFail {
		t.Fatalf("secret-as-key scheme answered %d; want %d", code, CodeSignFail)
	}
}
