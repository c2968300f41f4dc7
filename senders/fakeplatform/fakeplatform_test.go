package fakeplatform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/senders"
)

// clock is a settable time for throttling tests that must not sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T) (*Server, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	s := New()
	s.Now = c.Now
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, c
}

// post sends body and returns the platform code (errcode or code).
func post(t *testing.T, u, body string) int {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		ErrCode *int `json:"errcode"`
		Code    *int `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	if ans.ErrCode != nil {
		return *ans.ErrCode
	}
	return *ans.Code
}

func dingSign(secret string, ms int64) string {
	return hmacB64(secret, fmt.Sprintf("%d\n%s", ms, secret))
}

const (
	dtText = `{"msgtype":"text","text":{"content":"SchedulerX alert"}}`
	wcText = `{"msgtype":"text","text":{"content":"alert"}}`
	lkText = `{"msg_type":"text","content":{"text":"alert"}}`
)

func TestDingTalkThrottlesTenMinutesAfterTwentyPerMinute(t *testing.T) {
	s, c := start(t)
	u := s.AddRobot(Robot{Platform: senders.DingTalk, Token: "dt"})
	for i := range DingTalkPerMinute {
		if code := post(t, u, dtText); code != 0 {
			t.Fatalf("send %d answered %d", i+1, code)
		}
		c.Advance(time.Second)
	}
	if code := post(t, u, dtText); code != 130101 {
		t.Fatalf("21st send in a minute answered %d; want 130101", code)
	}
	c.Advance(5 * time.Minute) // the window is long empty, the throttle is not
	if code := post(t, u, dtText); code != 130101 {
		t.Fatalf("send during the throttle answered %d; want 130101", code)
	}
	c.Advance(5*time.Minute + time.Second)
	if code := post(t, u, dtText); code != 0 {
		t.Fatalf("send after the 10-minute throttle answered %d", code)
	}
	if got := s.Rejected("dt")[130101]; got != 2 {
		t.Fatalf("counted %d rejections by 130101; want 2", got)
	}
	if got := len(s.Received("dt")); got != DingTalkPerMinute+1 {
		t.Fatalf("recorded %d accepted; want %d", got, DingTalkPerMinute+1)
	}
}

func TestWeComAllowsTwentyPerMinute(t *testing.T) {
	s, c := start(t)
	u := s.AddRobot(Robot{Platform: senders.WeCom, Token: "wc"})
	for range WeComPerMinute {
		if code := post(t, u, wcText); code != 0 {
			t.Fatalf("answered %d", code)
		}
	}
	if code := post(t, u, wcText); code != 45009 {
		t.Fatalf("21st answered %d; want 45009", code)
	}
	c.Advance(time.Minute)
	if code := post(t, u, wcText); code != 0 {
		t.Fatalf("after a minute answered %d", code)
	}
}

func TestLarkAllowsFivePerSecondAndHundredPerMinute(t *testing.T) {
	s, c := start(t)
	u := s.AddRobot(Robot{Platform: senders.Lark, Token: "lk"})
	for sec := range LarkPerMinute / LarkPerSecond {
		for range LarkPerSecond {
			if code := post(t, u, lkText); code != 0 {
				t.Fatalf("second %d answered %d", sec, code)
			}
		}
		if code := post(t, u, lkText); code != 11232 {
			t.Fatalf("6th in second %d answered %d; want 11232", sec, code)
		}
		c.Advance(time.Second)
	}
	if code := post(t, u, lkText); code != 11232 {
		t.Fatalf("101st in a minute answered %d; want 11232", code)
	}
	c.Advance(time.Minute)
	if code := post(t, u, lkText); code != 0 {
		t.Fatalf("after the minute answered %d", code)
	}
}

func TestUnknownRobotsGetThePlatformsCodes(t *testing.T) {
	s, _ := start(t)
	for _, c := range []struct {
		url, body string
		want      int
	}{
		{s.URL + "/robot/send?access_token=nope", dtText, 300005},
		{s.URL + "/robot/send", dtText, 40035},
		{s.URL + "/cgi-bin/webhook/send?key=nope", wcText, 93000},
		{s.URL + "/open-apis/bot/v2/hook/nope", lkText, 19001},
	} {
		if got := post(t, c.url, c.body); got != c.want {
			t.Errorf("%s answered %d; want %d", c.url, got, c.want)
		}
	}
}

func TestOversizeMessagesGetThePlatformsCodes(t *testing.T) {
	s, _ := start(t)
	dt := s.AddRobot(Robot{Platform: senders.DingTalk, Token: "dt"})
	wc := s.AddRobot(Robot{Platform: senders.WeCom, Token: "wc"})
	lk := s.AddRobot(Robot{Platform: senders.Lark, Token: "lk"})
	big := func(n int) string { return strings.Repeat("告", n/3+1) }
	cases := []struct {
		url, body string
		want      int
	}{
		{dt, `{"msgtype":"text","text":{"content":"SchedulerX ` + big(DingTalkMaxBody) + `"}}`, 460101},
		{wc, `{"msgtype":"text","text":{"content":"` + big(WeComMaxText) + `"}}`, 40058},
		{wc, `{"msgtype":"markdown","markdown":{"content":"` + big(WeComMaxMarkdown) + `"}}`, 40058},
		{lk, `{"msg_type":"text","content":{"text":"` + big(LarkMaxBody) + `"}}`, 9499},
		// Just under the limits is fine.
		{wc, `{"msgtype":"text","text":{"content":"` + strings.Repeat("a", WeComMaxText) + `"}}`, 0},
		{wc, `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("a", WeComMaxMarkdown) + `"}}`, 0},
	}
	for i, c := range cases {
		if got := post(t, c.url, c.body); got != c.want {
			t.Errorf("case %d answered %d; want %d", i, got, c.want)
		}
	}
}

func TestMalformedMessagesGetThePlatformsCodes(t *testing.T) {
	s, _ := start(t)
	dt := s.AddRobot(Robot{Platform: senders.DingTalk, Token: "dt"})
	wc := s.AddRobot(Robot{Platform: senders.WeCom, Token: "wc"})
	lk := s.AddRobot(Robot{Platform: senders.Lark, Token: "lk"})
	for _, c := range []struct {
		url, body string
		want      int
	}{
		{dt, `{"msgtype":"link"}`, 40035},
		{wc, `{"msgtype":"text","text":{"content":""}}`, 44004},
		{wc, `{"msgtype":"image"}`, 40008},
		{lk, `{"msg_type":"interactive","card":"{\"elements\":[]}"}`, 9499}, // card must be an object
		{lk, `{"msg_type":"post","content":{"post":{"fr_fr":{}}}}`, 9499},
		{lk, `not json`, 9499},
	} {
		if got := post(t, c.url, c.body); got != c.want {
			t.Errorf("%s answered %d; want %d", c.body, got, c.want)
		}
	}
}

func TestDingTalkEnforcesKeywordSignatureAndClockWindow(t *testing.T) {
	s, c := start(t)
	u := s.AddRobot(Robot{Platform: senders.DingTalk, Token: "dt", Secret: "SECx", Keywords: []string{"SchedulerX"}})
	signed := func(ms int64, sign string) string {
		return u + "&timestamp=" + fmt.Sprint(ms) + "&sign=" + url.QueryEscape(sign)
	}
	now := c.Now().UnixMilli()
	if code := post(t, signed(now, dingSign("SECx", now)), dtText); code != 0 {
		t.Fatalf("good request answered %d", code)
	}
	if code := post(t, signed(now, dingSign("SECx", now)), `{"msgtype":"text","text":{"content":"schedulerx"}}`); code != 310000 {
		t.Fatalf("lower-case keyword answered %d; want 310000", code)
	}
	md := `{"msgtype":"markdown","markdown":{"title":"alert","text":"SchedulerX body"}}`
	if code := post(t, signed(now, dingSign("SECx", now)), md); code != 310000 {
		t.Fatalf("markdown without keyword in title answered %d; want 310000", code)
	}
	if code := post(t, signed(now, dingSign("other", now)), dtText); code != 310000 {
		t.Fatalf("wrong secret answered %d", code)
	}
	old := now - (time.Hour + time.Second).Milliseconds()
	if code := post(t, signed(old, dingSign("SECx", old)), dtText); code != 310000 {
		t.Fatalf("stale timestamp answered %d", code)
	}
	if code := post(t, u, dtText); code != 310000 {
		t.Fatalf("unsigned request answered %d", code)
	}
	if got := s.Rejected("dt")[310000]; got != 5 {
		t.Fatalf("counted %d rejections; want 5", got)
	}
}

func TestLarkEnforcesKeywordInTextAndTitleNotLinks(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.Lark, Token: "lk", Keywords: []string{"ops"}})
	if code := post(t, u, `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"ops alert","content":[]}}}}`); code != 0 {
		t.Fatalf("keyword in title answered %d", code)
	}
	if code := post(t, u, `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"x","content":[[{"tag":"a","text":"x","href":"https://ops.example.com"}]]}}}}`); code != 19024 {
		t.Fatalf("keyword only in a link answered %d; want 19024", code)
	}
}

func TestFaultsAffectOnlyTheNextNRequests(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.WeCom, Token: "wc"})
	s.FailNext("wc", 2, Fault5xx)
	for range 2 {
		resp, err := http.Post(u, "application/json", strings.NewReader(wcText))
		if err != nil || resp.StatusCode != 503 {
			t.Fatalf("got %v, %v; want 503", resp, err)
		}
		resp.Body.Close()
	}
	if code := post(t, u, wcText); code != 0 {
		t.Fatalf("after the faults answered %d", code)
	}
	s.FailNext("", 1, FaultClose)
	if _, err := http.Post(u, "application/json", strings.NewReader(wcText)); err == nil {
		t.Fatal("closed connection produced an answer")
	}
	s.FailNext("wc", 1, FaultHang)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(wcText))
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang ended with %v; want the client's deadline", err)
	}
	if code := post(t, u, wcText); code != 0 {
		t.Fatalf("after the hang answered %d", code)
	}
	if got := len(s.Received("wc")); got != 2 {
		t.Fatalf("recorded %d accepted; want 2", got)
	}
}

func TestThousandRobotsUnderConcurrentLoad(t *testing.T) {
	s := New()
	s.Latency = 5 * time.Millisecond
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var urls []string
	for i := range 1000 {
		p := []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark}[i%3]
		urls = append(urls, s.AddRobot(Robot{Platform: p, Token: fmt.Sprintf("r%04d", i)}))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var wg sync.WaitGroup
	errs := make(chan error, len(urls)*2)
	sem := make(chan struct{}, 64)
	for round := range 2 {
		for i, u := range urls {
			body := []string{dtText, wcText, lkText}[i%3]
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				resp, err := client.Post(u, "application/json", bytes.NewBufferString(body))
				if err != nil {
					errs <- err
					return
				}
				var ans struct{ ErrCode, Code int }
				json.NewDecoder(resp.Body).Decode(&ans)
				resp.Body.Close()
				if ans.ErrCode != 0 || ans.Code != 0 {
					errs <- fmt.Errorf("round %d robot %d answered %d/%d", round, i, ans.ErrCode, ans.Code)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(s.Received("")); got != 2000 {
		t.Fatalf("recorded %d; want 2000", got)
	}
}

// answer sends body and returns the platform's code and message.
func answer(t *testing.T, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		Code    *int   `json:"code"`
		Msg     string `json:"msg"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	if ans.ErrCode != nil {
		return *ans.ErrCode, ans.ErrMsg
	}
	return *ans.Code, ans.Msg
}

func TestDingTalkTakesOnlyWellFormedActionCards(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.DingTalk, Token: "dt", Keywords: []string{"SchedulerX"}})
	card := func(fields string) string {
		return `{"msgtype":"actionCard","actionCard":{` + fields + `}}`
	}
	const titled = `"title":"SchedulerX alert","text":"### SchedulerX alert\n\nbody"`
	for _, c := range []struct {
		body string
		code int
		msg  string
	}{
		{card(titled + `,"singleTitle":"Open","singleURL":"https://example.com/a"`), 0, "ok"},
		{card(titled + `,"btns":[{"title":"Ack","actionURL":"https://example.com/a"},{"title":"Mute","actionURL":"http://example.com/b"}],"btnOrientation":"0"`), 0, "ok"},
		{card(`"text":"SchedulerX","singleTitle":"Open","singleURL":"https://example.com/a"`), 40035, "缺少参数 actionCard.title"},
		{card(`"title":"SchedulerX","singleTitle":"Open","singleURL":"https://example.com/a"`), 40035, "缺少参数 actionCard.text"},
		{card(titled), 40035, "缺少参数 actionCard.singleURL"},
		{card(titled + `,"singleTitle":"Open"`), 40035, "缺少参数 actionCard.singleURL"},
		{card(titled + `,"singleURL":"https://example.com/a"`), 40035, "缺少参数 actionCard.singleTitle"},
		{card(titled + `,"singleTitle":"Open","singleURL":"javascript:alert(1)"`), 40035, "缺少参数 actionCard.singleURL"},
		{card(titled + `,"btns":[]`), 40035, "缺少参数 actionCard.singleURL"},
		{card(titled + `,"btns":[{"title":"Ack","actionURL":"https://example.com/a"},{"title":"","actionURL":"https://example.com/b"}]`), 40035, "缺少参数 actionCard.btns[1].title"},
		{card(titled + `,"btns":[{"title":"Ack","actionURL":"ftp://example.com/a"}]`), 40035, "缺少参数 actionCard.btns[0].actionURL"},
		{`{"msgtype":"actionCard"}`, 40035, "缺少参数 json"},
		// The keyword is demanded of the title and the text, as of markdown.
		{card(`"title":"alert","text":"SchedulerX","singleTitle":"Open","singleURL":"https://example.com/a"`), 310000, "keywords not in content"},
		{card(`"title":"SchedulerX","text":"alert","singleTitle":"Open","singleURL":"https://example.com/a"`), 310000, "keywords not in content"},
	} {
		if code, msg := answer(t, u, c.body); code != c.code || msg != c.msg {
			t.Errorf("%s answered %d %q; want %d %q", c.body, code, msg, c.code, c.msg)
		}
	}
	got := s.Received("dt")
	if len(got) != 2 || got[0].MsgType != "actionCard" || strings.Join(got[0].Links, " ") != "https://example.com/a" ||
		strings.Join(got[1].Links, " ") != "https://example.com/a http://example.com/b" || !strings.Contains(got[0].Text, "body") {
		t.Fatalf("recorded %+v", got)
	}
}

func TestDingTalkRecordsMentionsByUserID(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.DingTalk, Token: "dt"})
	if code := post(t, u, `{"msgtype":"text","text":{"content":"x @u1"},"at":{"atUserIds":["u1","u2"],"atMobiles":["13800000000"],"isAtAll":true}}`); code != 0 {
		t.Fatalf("answered %d", code)
	}
	got := s.Received("dt")[0]
	if strings.Join(got.UserIDs, ",") != "u1,u2" || strings.Join(got.Mobiles, ",") != "13800000000" || !got.AtAll {
		t.Fatalf("recorded %+v", got)
	}
}

func TestWeComTakesOnlyWellFormedTextNoticeCards(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.WeCom, Token: "wc"})
	good := map[string]any{
		"card_type":               "text_notice",
		"source":                  map[string]any{"desc": "Herald", "desc_color": 2},
		"main_title":              map[string]any{"title": "Disk full", "desc": "CRITICAL 严重"},
		"sub_title_text":          "db1 95%",
		"horizontal_content_list": []any{map[string]any{"keyname": "host", "value": "db1"}},
		"jump_list":               []any{map[string]any{"type": 1, "title": "Runbook", "url": "https://example.com/r"}},
		"card_action":             map[string]any{"type": 1, "url": "https://example.com/a"},
	}
	send := func(change func(c map[string]any)) (int, string) {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		if change != nil {
			change(c)
		}
		b, err := json.Marshal(map[string]any{"msgtype": "template_card", "template_card": c})
		if err != nil {
			t.Fatal(err)
		}
		return answer(t, u, string(b))
	}
	if code, msg := send(nil); code != 0 {
		t.Fatalf("a good card answered %d %s", code, msg)
	}
	got := s.Received("wc")
	if len(got) != 1 || got[0].MsgType != "template_card" || strings.Join(got[0].Links, " ") != "https://example.com/a https://example.com/r" ||
		!strings.Contains(got[0].Text, "Disk full") || !strings.Contains(got[0].Text, "db1 95%") {
		t.Fatalf("recorded %+v", got)
	}
	long := func(n int) string { return strings.Repeat("长", n) }
	many := func(n int, item map[string]any) []any {
		var out []any
		for range n {
			out = append(out, item)
		}
		return out
	}
	for _, c := range []struct {
		change func(map[string]any)
		want   string
	}{
		{func(c map[string]any) { c["card_type"] = "news_notice" }, "template_card.card_type"},
		{func(c map[string]any) { c["main_title"] = map[string]any{"title": long(27)} }, "template_card.main_title.title exceed max length 26"},
		{func(c map[string]any) { c["main_title"] = map[string]any{"title": "t", "desc": long(31)} }, "template_card.main_title.desc exceed max length 30"},
		{func(c map[string]any) { c["sub_title_text"] = long(113) }, "template_card.sub_title_text exceed max length 112"},
		{func(c map[string]any) { c["source"] = map[string]any{"desc": long(14)} }, "template_card.source.desc exceed max length 13"},
		{func(c map[string]any) { delete(c, "main_title"); delete(c, "sub_title_text") }, "template_card.main_title.title or template_card.sub_title_text missing"},
		{func(c map[string]any) { delete(c, "card_action") }, "template_card.card_action missing"},
		{func(c map[string]any) { c["card_action"] = map[string]any{"type": 1} }, "template_card.card_action.url invalid"},
		{func(c map[string]any) { c["card_action"] = map[string]any{"type": 2, "appid": "x"} }, "template_card.card_action.type invalid"},
		{func(c map[string]any) {
			c["horizontal_content_list"] = many(7, map[string]any{"keyname": "k", "value": "v"})
		}, "template_card.horizontal_content_list exceed max size 6"},
		{func(c map[string]any) { c["horizontal_content_list"] = []any{map[string]any{"value": "v"}} }, "template_card.horizontal_content_list[0].keyname missing"},
		{func(c map[string]any) {
			c["horizontal_content_list"] = []any{map[string]any{"keyname": "region", "value": "v"}}
		}, "template_card.horizontal_content_list[0].keyname exceed max length 5"},
		{func(c map[string]any) {
			c["horizontal_content_list"] = []any{map[string]any{"keyname": "k", "value": long(27)}}
		}, "template_card.horizontal_content_list[0].value exceed max length 26"},
		{func(c map[string]any) {
			c["jump_list"] = many(4, map[string]any{"type": 1, "title": "t", "url": "https://example.com"})
		}, "template_card.jump_list exceed max size 3"},
		{func(c map[string]any) {
			c["jump_list"] = []any{map[string]any{"type": 1, "url": "https://example.com"}}
		}, "template_card.jump_list[0].title missing"},
		{func(c map[string]any) { c["jump_list"] = []any{map[string]any{"type": 1, "title": "t"}} }, "template_card.jump_list[0].url invalid"},
		{func(c map[string]any) {
			c["jump_list"] = []any{map[string]any{"type": 1, "title": long(14), "url": "https://example.com"}}
		}, "template_card.jump_list[0].title exceed max length 13"},
	} {
		code, msg := send(c.change)
		if code != 40058 || !strings.Contains(msg, c.want) {
			t.Errorf("answered %d %q; want 40058 naming %q", code, msg, c.want)
		}
	}
	// At the limits is fine.
	if code, msg := send(func(c map[string]any) {
		c["main_title"] = map[string]any{"title": long(26), "desc": long(30)}
		c["sub_title_text"] = long(112)
		c["horizontal_content_list"] = many(6, map[string]any{"keyname": long(5), "value": long(26)})
		c["jump_list"] = many(3, map[string]any{"type": 1, "title": long(13), "url": "https://example.com"})
	}); code != 0 {
		t.Fatalf("a card at the limits answered %d %s", code, msg)
	}
	if code := post(t, u, `{"msgtype":"template_card"}`); code != 40008 {
		t.Fatalf("a template_card without its card answered %d; want 40008", code)
	}
}

func TestWeComRecordsMentionsByUserID(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.WeCom, Token: "wc"})
	post(t, u, `{"msgtype":"text","text":{"content":"x","mentioned_list":["zhangsan","@all"],"mentioned_mobile_list":["13800000000"]}}`)
	post(t, u, `{"msgtype":"markdown","markdown":{"content":"x <@lisi> <@wangwu>"}}`)
	got := s.Received("wc")
	if len(got) != 2 || strings.Join(got[0].UserIDs, ",") != "zhangsan" || !got[0].AtAll || strings.Join(got[0].Mobiles, ",") != "13800000000" ||
		strings.Join(got[1].UserIDs, ",") != "lisi,wangwu" || got[1].AtAll {
		t.Fatalf("recorded %+v", got)
	}
}

func TestLarkTakesOnlyWellFormedCards(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.Lark, Token: "lk"})
	const button = `{"tag":"button","text":{"tag":"plain_text","content":"Runbook"},"type":"primary_filled","behaviors":[{"type":"open_url","default_url":"https://example.com/r"}]}`
	v2 := func(header, elements string) string {
		return `{"msg_type":"interactive","card":{"schema":"2.0","config":{"width_mode":"fill"},"header":` + header + `,"body":{"elements":[` + elements + `]}}}`
	}
	const header = `{"title":{"tag":"plain_text","content":"DiskFull"},"template":"red"}`
	const md = `{"tag":"markdown","content":"**db1** <at id=ou_abc></at> <at ids=ou_d,ou_e></at>"}`
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"2.0", v2(header, md+`,{"tag":"hr"},`+button), 0},
		{"1.0", `{"msg_type":"interactive","card":{"config":{"wide_screen_mode":true},"header":{"template":"blue","title":{"tag":"plain_text","content":"t"}},"elements":[{"tag":"markdown","content":"c"},{"tag":"note","elements":[]}]}}`, 0},
		{"unknown card property", `{"msg_type":"interactive","card":{"schema":"2.0","header":` + header + `,"body":{"elements":[]},"elements":[]}}`, 19002},
		{"unknown tag", v2(header, `{"tag":"note","elements":[]}`), 19002},
		{"action module", v2(header, `{"tag":"action","actions":[]}`), 19002},
		{"unknown colour", v2(`{"title":{"tag":"plain_text","content":"t"},"template":"pink"}`, md), 19002},
		{"unknown colour in 1.0", `{"msg_type":"interactive","card":{"header":{"template":"pink","title":{"tag":"plain_text","content":"t"}},"elements":[]}}`, 19002},
		{"button without text", v2(header, `{"tag":"button","behaviors":[{"type":"open_url","default_url":"https://example.com"}]}`), 19002},
		{"button without a URL", v2(header, `{"tag":"button","text":{"tag":"plain_text","content":"x"},"behaviors":[{"type":"open_url"}]}`), 19002},
		{"button to javascript", v2(header, `{"tag":"button","text":{"tag":"plain_text","content":"x"},"behaviors":[{"type":"open_url","default_url":"javascript:x"}]}`), 19002},
		{"schema 3.0", `{"msg_type":"interactive","card":{"schema":"3.0","body":{"elements":[]}}}`, 19002},
		{"no body", `{"msg_type":"interactive","card":{"schema":"2.0","header":` + header + `}}`, 19002},
	} {
		code, msg := answer(t, u, c.body)
		if code != c.want || (c.want == 19002 && msg != "params error, unknown card value") {
			t.Errorf("%s answered %d %q; want %d", c.name, code, msg, c.want)
		}
	}
	got := s.Received("lk")
	if len(got) != 2 || strings.Join(got[0].Links, " ") != "https://example.com/r" || strings.Join(got[0].UserIDs, ",") != "ou_abc,ou_d,ou_e" ||
		!strings.Contains(got[0].Text, "DiskFull") || !strings.Contains(got[0].Text, "Runbook") {
		t.Fatalf("recorded %+v", got)
	}
	if got := s.Rejected("lk")[19002]; got != 10 {
		t.Fatalf("counted %d refusals by 19002; want 10", got)
	}
}

func TestLarkRecordsMentionsInTextAndPost(t *testing.T) {
	s, _ := start(t)
	u := s.AddRobot(Robot{Platform: senders.Lark, Token: "lk"})
	post(t, u, `{"msg_type":"text","content":{"text":"x <at user_id=\"ou_a\"></at> <at user_id=\"all\">All</at>"}}`)
	post(t, u, `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"t","content":[[{"tag":"at","user_id":"ou_b"},{"tag":"at","user_id":"ou_c"}]]}}}}`)
	got := s.Received("lk")
	if len(got) != 2 || strings.Join(got[0].UserIDs, ",") != "ou_a" || !got[0].AtAll || strings.Join(got[1].UserIDs, ",") != "ou_b,ou_c" || got[1].AtAll {
		t.Fatalf("recorded %+v", got)
	}
}
