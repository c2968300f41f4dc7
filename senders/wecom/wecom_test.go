package wecom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
)

const hook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"

func build(t *testing.T, tg senders.Robot, m senders.Message) senders.Request {
	t.Helper()
	m, err := m.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	req, err := New().Build(tg, m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTextMentionsPhonesAndEveryoneThroughTheMobileList(t *testing.T) {
	req := build(t, senders.Robot{URL: hook, Keyword: "ops"}, senders.Message{
		Title: "Disk full", Content: "磁盘满了", Severity: senders.Critical,
		MentionAll: true, MentionPhones: []string{"13800000000"},
	})
	want := `{"msgtype":"text","text":{"content":"[CRITICAL 严重] Disk full [ops]\n磁盘满了","mentioned_mobile_list":["13800000000","@all"]}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
}

func TestMarkdownIsColouredBySeverity(t *testing.T) {
	for sev, colour := range map[senders.Severity]string{senders.Info: "info", senders.Warning: "comment", senders.Critical: "warning"} {
		req := build(t, senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "**c**", Severity: sev, Format: senders.Markdown})
		want := `{"msgtype":"markdown","markdown":{"content":"### <font color=\"` + colour + `\">[` + sev.Label() + `] t</font>\n**c**"}}`
		if string(req.Body) != want {
			t.Errorf("%s body\n got %s\nwant %s", sev, req.Body, want)
		}
	}
}

func TestMarkdownWithMentionsFallsBackToText(t *testing.T) {
	// WeCom markdown cannot mention by mobile: text is the only way to page people.
	req := build(t, senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "c", Format: senders.Markdown, MentionPhones: []string{"13800000000"}})
	if !strings.HasPrefix(string(req.Body), `{"msgtype":"text"`) || !strings.Contains(string(req.Body), `"mentioned_mobile_list":["13800000000"]`) {
		t.Fatalf("body %s", req.Body)
	}
}

func TestContentIsCutToTheTextAndMarkdownLimits(t *testing.T) {
	content := strings.Repeat("服务不可用 service down; ", 1000)
	for f, limit := range map[senders.Format]int{senders.Text: MaxTextBytes, senders.Markdown: MaxMarkdownBytes} {
		req := build(t, senders.Robot{URL: hook, Keyword: "ops"}, senders.Message{Title: "标题 title", Content: content, Format: f, Severity: senders.Warning})
		var p struct {
			Text, Markdown struct{ Content string }
		}
		json.Unmarshal(req.Body, &p)
		got := p.Text.Content + p.Markdown.Content
		if len(got) > limit || len(got) < limit-40 || !utf8.ValidString(got) || !req.Truncated {
			t.Fatalf("%s content is %d bytes (limit %d), truncated=%v", f, len(got), limit, req.Truncated)
		}
		for _, must := range []string{"标题 title", "[ops]", "WARNING 警告", senders.TruncationMarker} {
			if !strings.Contains(got, must) {
				t.Errorf("%s: %q did not survive", f, must)
			}
		}
	}
}

func TestClassifyReadsEveryWeComCode(t *testing.T) {
	cases := []struct {
		body  string
		want  senders.Outcome
		delay time.Duration
	}{
		{`{"errcode":0,"errmsg":"ok"}`, senders.Sent, 0},
		{`{"errcode":45009,"errmsg":"api freq out of limit, hint: [123], from ip: 1.2.3.4"}`, senders.Retryable, time.Minute},
		{`{"errcode":93000,"errmsg":"invalid webhook url, hint: [123]"}`, senders.Permanent, 0},
		{`{"errcode":44004,"errmsg":"empty content"}`, senders.Permanent, 0},
		{`{"errcode":40008,"errmsg":"invalid message type"}`, senders.Permanent, 0},
		{`{"errcode":40058,"errmsg":"content exceed max length"}`, senders.Permanent, 0},
		{`<html/>`, senders.Permanent, 0},
	}
	for _, c := range cases {
		r := New().Classify(200, []byte(c.body))
		if r.Outcome != c.want || r.RetryAfter != c.delay {
			t.Errorf("Classify(%s) = %v after %v; want %v after %v", c.body, r.Outcome, r.RetryAfter, c.want, c.delay)
		}
	}
	r := New().Classify(200, []byte(`{"errcode":93000,"errmsg":"invalid webhook url, hint: [123]"}`))
	if r.PlatformMessage != "invalid webhook url, hint: [123]" || *r.PlatformCode != 93000 {
		t.Fatalf("errmsg not verbatim: %+v", r)
	}
	if r := New().Classify(503, nil); r.Outcome != senders.Retryable {
		t.Fatalf("503 = %v", r.Outcome)
	}
}
