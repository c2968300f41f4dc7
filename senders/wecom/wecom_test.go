package wecom

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
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
		req := build(t, senders.Robot{URL: hook, Keyword: "ops"}, senders.Message{
			Title: "标题 title", Content: content, Format: f, Severity: senders.Warning, MentionUserIDs: []string{"zhangsan"},
		})
		var p struct {
			Text struct {
				Content       string
				MentionedList []string `json:"mentioned_list"`
			}
			Markdown struct{ Content string }
		}
		json.Unmarshal(req.Body, &p)
		got := p.Text.Content + p.Markdown.Content
		if f == senders.Text && strings.Join(p.Text.MentionedList, ",") != "zhangsan" {
			t.Errorf("text lost its mention: %v", p.Text.MentionedList)
		}
		if f == senders.Markdown && !strings.HasSuffix(got, senders.TruncationMarker+"\n<@zhangsan>") {
			t.Errorf("markdown lost its mention: ...%s", got[len(got)-60:])
		}
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

func fake(t *testing.T) (*fakeplatform.Server, senders.Robot) {
	t.Helper()
	srv := fakeplatform.New()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, senders.Robot{URL: srv.AddRobot(fakeplatform.Robot{Platform: senders.WeCom, Token: "wc"})}
}

// send posts a request as the notifier would and returns WeCom's errcode and errmsg.
func send(t *testing.T, req senders.Request) (int, string) {
	t.Helper()
	resp, err := http.Post(req.URL, "application/json", strings.NewReader(string(req.Body)))
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

func TestTextMentionsUserIDsThroughTheMentionedList(t *testing.T) {
	srv, robot := fake(t)
	m := senders.Message{Title: "Disk full", Content: "磁盘满了", MentionAll: true, MentionPhones: []string{"13800000000"}, MentionUserIDs: []string{"zhangsan", "lisi"}}
	req := build(t, robot, m)
	want := `{"msgtype":"text","text":{"content":"[INFO 提示] Disk full\n磁盘满了","mentioned_list":["zhangsan","lisi"],"mentioned_mobile_list":["13800000000","@all"]}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("answered %d %s", code, msg)
	}
	if got := srv.Received("wc")[0]; strings.Join(got.UserIDs, ",") != "zhangsan,lisi" || !got.AtAll {
		t.Fatalf("fake recorded ids %v, all %v", got.UserIDs, got.AtAll)
	}
}

func TestMarkdownMentionsUserIDsInItsContent(t *testing.T) {
	srv, robot := fake(t)
	req := build(t, robot, senders.Message{Title: "t", Content: "**c**", Format: senders.Markdown, MentionUserIDs: []string{"zhangsan", "lisi"}})
	want := `{"msgtype":"markdown","markdown":{"content":"### <font color=\"info\">[INFO 提示] t</font>\n**c**\n<@zhangsan> <@lisi>"}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("answered %d %s", code, msg)
	}
	if got := srv.Received("wc")[0]; got.MsgType != "markdown" || strings.Join(got.UserIDs, ",") != "zhangsan,lisi" {
		t.Fatalf("fake recorded %s mentioning %v", got.MsgType, got.UserIDs)
	}
	// Everyone cannot be mentioned in markdown: the message goes as text, ids and all.
	req = build(t, robot, senders.Message{Title: "t", Content: "c", Format: senders.Markdown, MentionAll: true, MentionUserIDs: []string{"zhangsan"}})
	if !strings.HasPrefix(string(req.Body), `{"msgtype":"text"`) || !strings.Contains(string(req.Body), `"mentioned_list":["zhangsan"]`) {
		t.Fatalf("body %s", req.Body)
	}
}

func TestLinksFollowTheContent(t *testing.T) {
	links := []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}, {URL: "https://grafana.example.com/d/1"}, {Text: "x", URL: "file:///etc/passwd"}}
	text := build(t, senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "c", Links: links})
	if want := `"content":"[INFO 提示] t\nc\nRunbook: https://wiki.example.com/disk\ngrafana.example.com: https://grafana.example.com/d/1"`; !strings.Contains(string(text.Body), want) {
		t.Errorf("text %s lacks %s", text.Body, want)
	}
	md := build(t, senders.Robot{URL: hook}, senders.Message{Title: "t", Content: "c", Links: links, Format: senders.Markdown})
	if want := `\nc\n[Runbook](https://wiki.example.com/disk) · [grafana.example.com](https://grafana.example.com/d/1)"`; !strings.Contains(string(md.Body), want) {
		t.Errorf("markdown %s lacks %s", md.Body, want)
	}
}

type card struct {
	MsgType      string `json:"msgtype"`
	TemplateCard struct {
		CardType string `json:"card_type"`
		Source   struct {
			Desc      string `json:"desc"`
			DescColor int    `json:"desc_color"`
		} `json:"source"`
		MainTitle struct {
			Title string `json:"title"`
			Desc  string `json:"desc"`
		} `json:"main_title"`
		SubTitleText string `json:"sub_title_text"`
		Horizontal   []struct {
			KeyName string `json:"keyname"`
			Value   string `json:"value"`
		} `json:"horizontal_content_list"`
		JumpList []struct {
			Type       int
			Title, URL string
		} `json:"jump_list"`
		CardAction struct {
			Type int
			URL  string
		} `json:"card_action"`
	} `json:"template_card"`
}

var fourLinks = []senders.Link{
	{Text: "Runbook", URL: "https://wiki.example.com/disk"},
	{Text: "Grafana dashboard for db1", URL: "https://grafana.example.com/d/1"},
	{Text: "Silence", URL: "https://am.example.com/silence"},
	{Text: "Source", URL: "https://prom.example.com/graph"},
}

func TestCardIsATextNoticeTheFakeAccepts(t *testing.T) {
	srv, robot := fake(t)
	robot.Keyword = "ops"
	content := strings.Repeat("磁", MaxCardSubTitle)
	req := build(t, robot, senders.Message{
		Title: "Disk full on db1", Content: content, Severity: senders.Critical, Format: senders.Card, Links: fourLinks,
		Fields: []senders.Field{{Name: "host", Value: "db1"}, {Name: "机房", Value: "上海"}},
	})
	if req.Fallback != "" || req.Companion != nil {
		t.Fatalf("fallback %q companion %v", req.Fallback, req.Companion)
	}
	var p card
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	c := p.TemplateCard
	if p.MsgType != "template_card" || c.CardType != "text_notice" || c.Source.Desc != "Herald" || c.Source.DescColor != 2 ||
		c.MainTitle.Title != "Disk full on db1 [ops]" || c.MainTitle.Desc != "CRITICAL 严重" || c.SubTitleText != content ||
		c.CardAction.Type != 1 || c.CardAction.URL != "https://wiki.example.com/disk" {
		t.Fatalf("card %s", req.Body)
	}
	if len(c.Horizontal) != 2 || c.Horizontal[1].KeyName != "机房" || c.Horizontal[1].Value != "上海" {
		t.Errorf("fields %+v", c.Horizontal)
	}
	if len(c.JumpList) != MaxCardJumps || c.JumpList[1].Title != "Grafana dash…" || c.JumpList[1].URL != "https://grafana.example.com/d/1" || c.JumpList[2].Type != 1 {
		t.Errorf("jump list %+v", c.JumpList)
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("the fake refused the card: %d %s\n%s", code, msg, req.Body)
	}
	got := srv.Received("wc")[0]
	if got.MsgType != "template_card" || len(got.Links) != 4 || got.Links[0] != "https://wiki.example.com/disk" || !strings.Contains(got.Text, "Disk full on db1") {
		t.Fatalf("fake recorded %+v", got)
	}
	resolved := build(t, robot, senders.Message{Title: "t", Format: senders.Card, Links: fourLinks[:1], Resolved: true, Severity: senders.Critical})
	if json.Unmarshal(resolved.Body, &p); p.TemplateCard.Source.DescColor != 3 || p.TemplateCard.MainTitle.Desc != senders.ResolvedLabel {
		t.Errorf("resolved card %s", resolved.Body)
	}
}

func TestCardThatMentionsIsFollowedByATextCompanion(t *testing.T) {
	srv, robot := fake(t)
	m := senders.Message{Title: "Disk full", Content: "db1", Format: senders.Card, Links: fourLinks[:1],
		MentionAll: true, MentionPhones: []string{"13800000000"}, MentionUserIDs: []string{"zhangsan"}}
	req := build(t, robot, m)
	if req.Companion == nil || Descriptor.Sends(m) != 2 || req.Companion.URL != robot.URL {
		t.Fatalf("companion %+v, sends %d", req.Companion, Descriptor.Sends(m))
	}
	want := `{"msgtype":"text","text":{"content":"[INFO 提示] Disk full","mentioned_list":["zhangsan","@all"],"mentioned_mobile_list":["13800000000"]}}`
	if string(req.Companion.Body) != want {
		t.Fatalf("companion\n got %s\nwant %s", req.Companion.Body, want)
	}
	for _, r := range []senders.Request{req, *req.Companion} {
		if code, msg := send(t, r); code != 0 {
			t.Fatalf("answered %d %s", code, msg)
		}
	}
	if got := srv.Received("wc"); len(got) != 2 || got[1].MsgType != "text" || strings.Join(got[1].UserIDs, ",") != "zhangsan" || !got[1].AtAll {
		t.Fatalf("fake recorded %+v", got)
	}
}

func TestCardThatDoesNotFitIsSentAsMarkdown(t *testing.T) {
	base := senders.Message{Title: "Disk full", Content: "db1", Format: senders.Card, Links: fourLinks[:1]}
	cases := []struct {
		name   string
		change func(*senders.Message)
		reason string
	}{
		{"long content", func(m *senders.Message) { m.Content = strings.Repeat("磁", MaxCardSubTitle+1) }, "content longer than a WeCom card's 112 characters"},
		{"long title", func(m *senders.Message) { m.Title = strings.Repeat("t", MaxCardTitle+1) }, "title longer than a WeCom card's 26 characters"},
		{"no link", func(m *senders.Message) { m.Links = []senders.Link{{Text: "x", URL: "mailto:a@example.com"}} }, "no link for the WeCom card's action"},
		{"sections", func(m *senders.Message) { m.Sections = []senders.Section{{Heading: "a"}, {Heading: "b"}} }, "a WeCom card shows one alert, not several"},
		{"seven fields", func(m *senders.Message) {
			for range MaxCardFields + 1 {
				m.Fields = append(m.Fields, senders.Field{Name: "k", Value: "v"})
			}
		}, "more than a WeCom card's 6 fields"},
		{"long field name", func(m *senders.Message) { m.Fields = []senders.Field{{Name: "region", Value: "sh"}} }, `field name "region" longer than a WeCom card's 5 characters`},
		{"long field value", func(m *senders.Message) {
			m.Fields = []senders.Field{{Name: "k", Value: strings.Repeat("v", MaxCardValue+1)}}
		}, `field "k"'s value longer than a WeCom card's 26 characters`},
	}
	for _, c := range cases {
		m := base
		m.MentionUserIDs = []string{"zhangsan"}
		c.change(&m)
		req := build(t, senders.Robot{URL: hook}, m)
		if req.Fallback != c.reason || !strings.HasPrefix(string(req.Body), `{"msgtype":"markdown"`) || !strings.Contains(string(req.Body), "<@zhangsan>") || req.Companion != nil {
			t.Errorf("%s: fallback %q companion %v body %s", c.name, req.Fallback, req.Companion, req.Body)
		}
	}
	// The markdown fallback keeps markdown's rule: mobiles are mentioned in text.
	m := base
	m.Content, m.MentionPhones = strings.Repeat("x", 200), []string{"13800000000"}
	req := build(t, senders.Robot{URL: hook}, m)
	if req.Fallback == "" || !strings.HasPrefix(string(req.Body), `{"msgtype":"text"`) || req.Companion != nil {
		t.Fatalf("fallback %q body %s", req.Fallback, req.Body)
	}
}

func TestFakeRefusesACardOverTheTitleLimit(t *testing.T) {
	srv, robot := fake(t)
	req := build(t, robot, senders.Message{Title: "t", Content: "c", Format: senders.Card, Links: fourLinks[:1]})
	req.Body = []byte(strings.Replace(string(req.Body), `"title":"t"`, `"title":"`+strings.Repeat("长", MaxCardTitle+1)+`"`, 1))
	code, msg := send(t, req)
	if code != CodeContentTooLong || !strings.Contains(msg, "template_card.main_title.title exceed max length 26") {
		t.Fatalf("answered %d %q", code, msg)
	}
	if r := New().Classify(200, []byte(`{"errcode":40058,"errmsg":"`+msg+`"}`)); r.Outcome != senders.Permanent {
		t.Fatalf("a refused card classifies as %v", r.Outcome)
	}
	if got := srv.Rejected("wc")[CodeContentTooLong]; got != 1 {
		t.Fatalf("counted %d refusals", got)
	}
}

func TestACrowdOfMentionedIDsGoesAsText(t *testing.T) {
	m := senders.Message{Title: "db down", Content: strings.Repeat("x", 3000), Format: senders.Markdown}
	for i := range 200 {
		m.MentionUserIDs = append(m.MentionUserIDs, fmt.Sprintf("someone.with.a.long.id%03d", i))
	}
	req, err := New().Build(senders.Robot{URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			MentionedList []string `json:"mentioned_list"`
		}
	}
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	if p.MsgType != "text" || len(p.Text.MentionedList) != 200 {
		t.Errorf("a %s mentioning %d", p.MsgType, len(p.Text.MentionedList))
	}
}
