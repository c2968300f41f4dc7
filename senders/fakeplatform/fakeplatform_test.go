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
