package lark

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
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
			senders.Message{Title: "标题", Content: content, Format: f, MentionUserIDs: []string{"ou_oncall"}}, time.Now())
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
		if mention := map[senders.Format]string{senders.Text: `{"tag":"at","user_id":"ou_oncall"}`, senders.Markdown: `<at id=ou_oncall></at>`}[f]; !strings.Contains(s, mention) {
			t.Fatalf("%s: the mention did not survive truncation", f)
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

// fake starts the fake Lark with a signed robot protected by a keyword; its clock is the one
// requests are built with.
func fake(t *testing.T) (*fakeplatform.Server, senders.Robot) {
	t.Helper()
	srv := fakeplatform.New()
	srv.Now = func() time.Time { return time.Unix(1756800000, 0) }
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u := srv.AddRobot(fakeplatform.Robot{Platform: senders.Lark, Token: "lk", Secret: "orbit-test-secret", Keywords: []string{"ops"}})
	return srv, senders.Robot{URL: u, Secret: "orbit-test-secret", Keyword: "ops"}
}

var at = time.Unix(1756800000, 0)

// send posts a request as the notifier would and returns Lark's code and msg.
func send(t *testing.T, req senders.Request) (int, string) {
	t.Helper()
	resp, err := http.Post(req.URL, "application/json", bytes.NewReader(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %v", resp.StatusCode, err)
	}
	return ans.Code, ans.Msg
}

func TestPostMentionsOpenIDsWithAtElements(t *testing.T) {
	req := build(t, New(), senders.Robot{URL: hook}, senders.Message{
		Title: "Disk full", Content: "磁盘满了", MentionAll: true, MentionUserIDs: []string{"ou_a", "ou_b"}, MentionPhones: []string{"13800000000"},
	}, time.Now())
	want := `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"[INFO 提示] Disk full","content":[[{"tag":"text","text":"磁盘满了"}],[{"tag":"at","user_id":"all"},{"tag":"at","user_id":"ou_a"},{"tag":"at","user_id":"ou_b"},{"tag":"text","text":" @13800000000"}]]}}}}`
	if string(req.Body) != want {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
}

func TestEveryFormatMentionsOpenIDsAndTheFakeSeesThem(t *testing.T) {
	srv, robot := fake(t)
	m := senders.Message{Title: "Disk full", Content: "db1 95%", MentionUserIDs: []string{"ou_a", "ou_b"},
		Links: []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}}}
	cases := []struct {
		b       *Builder
		format  senders.Format
		msgType string
		markup  string
	}{
		{New(), senders.Text, "post", `{"tag":"at","user_id":"ou_a"},{"tag":"at","user_id":"ou_b"}`},
		{New(WithPlainText()), senders.Text, "text", `<at user_id=\"ou_a\"></at> <at user_id=\"ou_b\"></at>`},
		{New(), senders.Markdown, "interactive", `<at id=ou_a></at> <at id=ou_b></at>`},
		{New(), senders.Card, "interactive", `<at id=ou_a></at> <at id=ou_b></at>`},
	}
	for _, c := range cases {
		m.Format = c.format
		req := build(t, c.b, robot, m, at)
		if req.Companion != nil || Descriptor.Sends(m) != 1 {
			t.Fatalf("%s: Lark mentions in every format, yet a companion: %+v", c.format, req.Companion)
		}
		if !strings.Contains(string(req.Body), c.markup) {
			t.Errorf("%s: body %s lacks %s", c.format, req.Body, c.markup)
		}
		if code, msg := send(t, req); code != 0 {
			t.Fatalf("%s answered %d %s for %s", c.format, code, msg, req.Body)
		}
	}
	got := srv.Received("lk")
	if len(got) != len(cases) {
		t.Fatalf("received %d", len(got))
	}
	for i, r := range got {
		if r.MsgType != cases[i].msgType || strings.Join(r.UserIDs, ",") != "ou_a,ou_b" {
			t.Errorf("%d: fake recorded %s mentioning %v", i, r.MsgType, r.UserIDs)
		}
	}
}

func TestLinksFollowTheContentInEveryFormat(t *testing.T) {
	links := []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}, {Text: "Dash", URL: "https://grafana.example.com/d/1"}, {Text: "bad", URL: "//no-scheme.example.com"}}
	m := senders.Message{Title: "t", Content: "c", Links: links}
	for _, c := range []struct {
		b      *Builder
		format senders.Format
		want   string
	}{
		{New(), senders.Text, `[{"tag":"text","text":"c"}],[{"tag":"a","text":"Runbook","href":"https://wiki.example.com/disk"}],[{"tag":"a","text":"Dash","href":"https://grafana.example.com/d/1"}]]`},
		{New(WithPlainText()), senders.Text, `"text":"[INFO 提示] t\nc\nRunbook: https://wiki.example.com/disk\nDash: https://grafana.example.com/d/1"`},
		{New(), senders.Markdown, `"content":"c\n[Runbook](https://wiki.example.com/disk) · [Dash](https://grafana.example.com/d/1)"`},
	} {
		m.Format = c.format
		req := build(t, c.b, senders.Robot{URL: hook}, m, at)
		if !strings.Contains(string(req.Body), c.want) || strings.Contains(string(req.Body), "no-scheme") {
			t.Errorf("%s: body %s lacks %s", c.format, req.Body, c.want)
		}
	}
}

func TestCardIsJSON2WithAButtonPerLink(t *testing.T) {
	srv, robot := fake(t)
	req := build(t, New(), robot, senders.Message{
		Title: "DiskFull", Content: "**db1** 95%", Severity: senders.Critical, Format: senders.Card, MentionUserIDs: []string{"ou_abc"},
		Fields: []senders.Field{{Name: "host", Value: "db1"}},
		Links:  []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}, {Text: "Silence", URL: "https://am.example.com/s"}},
	}, at)
	want := `{"timestamp":"1756800000","sign":"sN+9ZKa5w6BQmKyxCaxNA1DWEgtEnZaOcfEOCqZ26fg=","msg_type":"interactive","card":{"schema":"2.0","config":{"width_mode":"fill"},` +
		`"header":{"title":{"tag":"plain_text","content":"[CRITICAL 严重] DiskFull [ops]"},"template":"red"},"body":{"elements":[` +
		`{"tag":"markdown","content":"**db1** 95%\n**host**: db1\n<at id=ou_abc></at>\n[ops]"},` +
		`{"tag":"button","text":{"tag":"plain_text","content":"Runbook"},"type":"primary_filled","behaviors":[{"type":"open_url","default_url":"https://wiki.example.com/disk"}]},` +
		`{"tag":"button","text":{"tag":"plain_text","content":"Silence"},"type":"default","behaviors":[{"type":"open_url","default_url":"https://am.example.com/s"}]}]}}}`
	if string(req.Body) != want || req.Fallback != "" || req.Truncated {
		t.Fatalf("body\n got %s\nwant %s", req.Body, want)
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("the fake refused the card: %d %s", code, msg)
	}
	got := srv.Received("lk")[0]
	if strings.Join(got.Links, " ") != "https://wiki.example.com/disk https://am.example.com/s" || strings.Join(got.UserIDs, ",") != "ou_abc" {
		t.Fatalf("fake recorded links %v, ids %v", got.Links, got.UserIDs)
	}
	for _, c := range []struct {
		m    senders.Message
		want string
	}{
		{senders.Message{Severity: senders.Warning}, "orange"},
		{senders.Message{Severity: senders.Info}, "blue"},
		{senders.Message{Severity: senders.Critical, Resolved: true}, "green"},
	} {
		c.m.Title, c.m.Format = "t", senders.Card
		if req := build(t, New(), robot, c.m, at); !strings.Contains(string(req.Body), `"template":"`+c.want+`"`) {
			t.Errorf("%s resolved=%v: %s", c.m.Severity, c.m.Resolved, req.Body)
		}
	}
}

type decodedCard struct {
	Card struct {
		Schema string
		Body   struct {
			Elements []struct {
				Tag, Content string
			}
		}
	}
}

func TestCoalescedCardHasABlockPerSection(t *testing.T) {
	_, robot := fake(t)
	req := build(t, New(), robot, senders.Message{
		Title: "3 alerts", Content: "all three joined", Format: senders.Card, MentionAll: true,
		Sections: []senders.Section{{Heading: "Disk full", Content: "db1"}, {Heading: "CPU high", Content: "web1"}, {Heading: "ops lag", Content: "kafka"}},
		Links:    []senders.Link{{Text: "Alertmanager", URL: "https://am.example.com"}},
	}, at)
	var p decodedCard
	if err := json.Unmarshal(req.Body, &p); err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, e := range p.Card.Body.Elements {
		tags = append(tags, e.Tag)
	}
	if strings.Join(tags, ",") != "markdown,hr,markdown,hr,markdown,markdown,button" {
		t.Fatalf("elements %v: %s", tags, req.Body)
	}
	els := p.Card.Body.Elements
	if els[0].Content != "**Disk full**\ndb1" || els[4].Content != "**ops lag**\nkafka" || els[5].Content != "<at id=all></at>" {
		t.Fatalf("blocks %+v", els)
	}
	if strings.Contains(string(req.Body), "joined") {
		t.Fatal("the joined content was shown beside the sections")
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("answered %d %s", code, msg)
	}
}

func TestOversizeCardIsCutToFitAndKeepsItsButtons(t *testing.T) {
	_, robot := fake(t)
	var sections []senders.Section
	for i := range 200 {
		sections = append(sections, senders.Section{Heading: "告警 " + strconv.Itoa(i), Content: strings.Repeat("详情 details ", 20)})
	}
	for name, m := range map[string]senders.Message{
		"content":  {Content: strings.Repeat("告警详情 details ", 3000)},
		"sections": {Content: strings.Repeat("告警详情 details ", 3000), Sections: sections},
	} {
		m.Title, m.Format, m.MentionUserIDs = "标题", senders.Card, []string{"ou_oncall"}
		m.Links = []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}}
		req := build(t, New(), robot, m, at)
		var p decodedCard
		if err := json.Unmarshal(req.Body, &p); err != nil {
			t.Fatal(err)
		}
		s := string(req.Body)
		if len(req.Body) > MaxBodyBytes || len(req.Body) < MaxBodyBytes-200 || !req.Truncated || req.Fallback != "" || p.Card.Schema != "2.0" {
			t.Fatalf("%s: %d bytes, truncated %v, fallback %q", name, len(req.Body), req.Truncated, req.Fallback)
		}
		for _, must := range []string{"[INFO 提示] 标题 [ops]", senders.TruncationMarker, "<at id=ou_oncall></at>", `"default_url":"https://wiki.example.com/disk"`} {
			if !strings.Contains(s, strings.ReplaceAll(must, "\n", `\n`)) {
				t.Errorf("%s: %q did not survive", name, must)
			}
		}
		if code, msg := send(t, req); code != 0 {
			t.Fatalf("%s answered %d %s", name, code, msg)
		}
	}
}

func TestCardTooBigWithoutContentIsSentAsMarkdown(t *testing.T) {
	_, robot := fake(t)
	var fields []senders.Field
	for i := range 100 {
		fields = append(fields, senders.Field{Name: "label" + strconv.Itoa(i), Value: strings.Repeat("v", 200)})
	}
	req := build(t, New(), robot, senders.Message{
		Title: "t", Content: "c", Format: senders.Card, Fields: fields, MentionUserIDs: []string{"ou_a"},
		Links: []senders.Link{{Text: "Runbook", URL: "https://wiki.example.com/disk"}},
	}, at)
	s := string(req.Body)
	if req.Fallback != FallbackTooBig || len(req.Body) > MaxBodyBytes || strings.Contains(s, `"schema"`) ||
		!strings.Contains(s, `"elements":[{"tag":"markdown","content":"c\n[Runbook](https://wiki.example.com/disk)\n<at id=ou_a></at>\n[ops]"}]`) {
		t.Fatalf("fallback %q, %d bytes: %s", req.Fallback, len(req.Body), s)
	}
	if code, msg := send(t, req); code != 0 {
		t.Fatalf("answered %d %s", code, msg)
	}
}

func TestFakeRefusesACardWithAnUnknownTag(t *testing.T) {
	srv, robot := fake(t)
	req := build(t, New(), robot, senders.Message{Title: "t", Content: "c", Format: senders.Card}, at)
	req.Body = bytes.Replace(req.Body, []byte(`"elements":[`), []byte(`"elements":[{"tag":"note","elements":[]},`), 1)
	if code, msg := send(t, req); code != 19002 || msg != "params error, unknown card value" {
		t.Fatalf("answered %d %q; want 19002", code, msg)
	}
	if got := srv.Rejected("lk")[19002]; got != 1 {
		t.Fatalf("counted %d refusals", got)
	}
}
