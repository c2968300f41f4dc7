package notify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

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

type env struct {
	fake  *fakeplatform.Server
	clock *clock
	n     *notify.Notifier
}

// setup starts the fake platforms and a Notifier whose guard lists only
// 127.0.0.1, the fake's address.
func setup(t *testing.T, mutate ...func(*notify.Config)) *env {
	t.Helper()
	c := &clock{t: time.Unix(1_750_000_000, 0)}
	fake := fakeplatform.New()
	fake.Now = c.Now
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	g, err := notify.NewGuard(platforms.Registry, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.Config{Platforms: platforms.Registry, Guard: g, Version: "1.2.3", Now: c.Now, Timeout: 2 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: fake, clock: c, n: n}
}

var alert = senders.Message{
	Title: "订单服务 5xx 激增 order-service errors", Content: "错误率 12% over 5m\n[runbook](https://wiki.example.com/rb)",
	Severity: senders.Critical, Format: senders.Markdown, MentionPhones: []string{"13800000000"},
}

// leaks fails when a result's error carries a credential.
func leaks(t *testing.T, r senders.Result, secrets ...string) {
	t.Helper()
	if r.Err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(r.Err.Error(), s) {
			t.Fatalf("error leaks %q: %v", s, r.Err)
		}
	}
}

func TestSignedDingTalkRobotWithKeywordSecurityReceivesTheAlert(t *testing.T) {
	e := setup(t)
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt-token-0123456789", Secret: "SEC0123456789", Keywords: []string{"SchedulerX"}})
	for _, f := range []senders.Format{senders.Text, senders.Markdown} {
		m := alert
		m.Format = f
		r := e.n.Send(context.Background(), senders.Robot{URL: url, Secret: "SEC0123456789"}, m)
		if r.Outcome != senders.Sent || r.HTTPStatus != 200 || r.PlatformCode == nil || *r.PlatformCode != 0 || r.Err != nil || r.Duration <= 0 {
			t.Fatalf("%s: %+v", f, r)
		}
	}
	got := e.fake.Received("dt-token-0123456789")
	if len(got) != 2 || got[0].MsgType != "text" || got[1].MsgType != "markdown" {
		t.Fatalf("received %+v", got)
	}
	for _, m := range got {
		for _, want := range []string{"[CRITICAL 严重]", "订单服务 5xx 激增", "SchedulerX", "@13800000000"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s message lacks %q: %q", m.MsgType, want, m.Text)
			}
		}
		if len(m.Mobiles) != 1 || m.Mobiles[0] != "13800000000" || m.UserAgent != "Herald/1.2.3" {
			t.Errorf("mentions %v, user agent %q", m.Mobiles, m.UserAgent)
		}
	}
}

func TestDingTalkConfigurationErrorsArePermanentWithTheirCode(t *testing.T) {
	e := setup(t)
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt-token-0123456789", Secret: "SEC-right", Keywords: []string{"Other"}})
	cases := map[string]senders.Robot{
		"keywords not in content": {URL: url, Secret: "SEC-right"},
		"sign not match":          {URL: url, Secret: "SEC-wrong-secret"},
	}
	for want, tg := range cases {
		r := e.n.Send(context.Background(), tg, alert)
		if r.Outcome != senders.Permanent || r.PlatformCode == nil || *r.PlatformCode != 310000 || r.PlatformMessage != want {
			t.Fatalf("%s: %+v", want, r)
		}
		if !strings.Contains(r.Err.Error(), "310000") || !strings.Contains(r.Err.Error(), want) {
			t.Fatalf("error does not name code and message: %v", r.Err)
		}
		leaks(t, r, "dt-token-0123456789", tg.Secret)
	}
	// The target's own keyword is added to every DingTalk message.
	r := e.n.Send(context.Background(), senders.Robot{URL: url, Secret: "SEC-right", Keyword: "Other"}, alert)
	if r.Outcome != senders.Sent {
		t.Fatalf("target keyword not used: %+v", r)
	}
}

func TestDingTalkSignatureOutsideTheHourIsRefused(t *testing.T) {
	e := setup(t, func(c *notify.Config) {
		c.Now = func() time.Time { return time.Unix(1_750_000_000, 0).Add(-61 * time.Minute) }
	})
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt", Secret: "S"})
	r := e.n.Send(context.Background(), senders.Robot{URL: url, Secret: "S"}, alert)
	if r.Outcome != senders.Permanent || r.PlatformMessage != "invalid timestamp" {
		t.Fatalf("%+v", r)
	}
}

func TestSignedLarkRobotReceivesCardAndPost(t *testing.T) {
	e := setup(t)
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.Lark, Token: "lk-token-0123456789", Secret: "lark-secret", Keywords: []string{"ops"}})
	tg := senders.Robot{URL: url, Secret: "lark-secret", Keyword: "ops"}
	for _, f := range []senders.Format{senders.Markdown, senders.Text} {
		m := alert
		m.Format, m.MentionAll = f, true
		if r := e.n.Send(context.Background(), tg, m); r.Outcome != senders.Sent {
			t.Fatalf("%s: %+v", f, r)
		}
	}
	got := e.fake.Received("lk-token-0123456789")
	if len(got) != 2 || got[0].MsgType != "interactive" || got[1].MsgType != "post" {
		t.Fatalf("received %+v", got)
	}
	if !strings.Contains(string(got[0].Body), `"template":"red"`) || !strings.Contains(got[0].Text, "<at id=all></at>") {
		t.Fatalf("card %s", got[0].Body)
	}
	r := e.n.Send(context.Background(), senders.Robot{URL: url, Secret: "wrong", Keyword: "ops"}, alert)
	if r.Outcome != senders.Permanent || *r.PlatformCode != 19021 {
		t.Fatalf("wrong secret: %+v", r)
	}
	r = e.n.Send(context.Background(), senders.Robot{URL: url, Secret: "lark-secret"}, senders.Message{Title: "no word"})
	if r.Outcome != senders.Permanent || *r.PlatformCode != 19024 {
		t.Fatalf("missing keyword: %+v", r)
	}
	leaks(t, r, "lk-token-0123456789", "lark-secret")
}

func TestWeComRobotReceivesTextAndMarkdown(t *testing.T) {
	e := setup(t)
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.WeCom, Token: "wc-key-0123456789"})
	if r := e.n.Send(context.Background(), senders.Robot{URL: url}, alert); r.Outcome != senders.Sent {
		t.Fatalf("%+v", r)
	}
	m := alert
	m.MentionPhones = nil
	if r := e.n.Send(context.Background(), senders.Robot{URL: url}, m); r.Outcome != senders.Sent {
		t.Fatalf("%+v", r)
	}
	got := e.fake.Received("wc-key-0123456789")
	if len(got) != 2 || got[0].MsgType != "text" || got[1].MsgType != "markdown" || got[0].Mobiles[0] != "13800000000" {
		t.Fatalf("received %+v", got)
	}
	if !strings.Contains(got[1].Text, `<font color="warning">[CRITICAL 严重]`) {
		t.Fatalf("markdown %q", got[1].Text)
	}
	r := e.n.Send(context.Background(), senders.Robot{URL: strings.Replace(url, "wc-key", "bad-key", 1)}, alert)
	if r.Outcome != senders.Permanent || *r.PlatformCode != 93000 || !strings.HasPrefix(r.PlatformMessage, "invalid webhook url, hint:") {
		t.Fatalf("unknown key: %+v", r)
	}
}

func TestOversizeAlertsAreCutAndStillDelivered(t *testing.T) {
	e := setup(t)
	huge := alert
	huge.Content = strings.Repeat("堆栈 stack frame at com.example.Foo(Foo.java:42)\n", 3000)
	for _, r := range []fakeplatform.Robot{
		{Platform: senders.DingTalk, Token: "dt", Keywords: []string{"SchedulerX"}},
		{Platform: senders.WeCom, Token: "wc"},
		{Platform: senders.Lark, Token: "lk", Secret: "s"},
	} {
		url := e.fake.AddRobot(r)
		for _, f := range []senders.Format{senders.Text, senders.Markdown} {
			m := huge
			m.Format = f
			res := e.n.Send(context.Background(), senders.Robot{URL: url, Secret: r.Secret}, m)
			if res.Outcome != senders.Sent || !res.Truncated {
				t.Fatalf("%s %s: %+v", r.Platform, f, res)
			}
		}
		for _, m := range e.fake.Received(r.Token) {
			if !strings.Contains(m.Text, "truncated 内容已截断") || !strings.Contains(m.Text, "订单服务") {
				t.Fatalf("%s message lost marker or title", r.Platform)
			}
		}
	}
}

func TestDingTalkRateLimitIsRetryableAfterTenMinutes(t *testing.T) {
	e := setup(t)
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt"})
	for i := range 20 {
		if r := e.n.Send(context.Background(), senders.Robot{URL: url}, alert); r.Outcome != senders.Sent {
			t.Fatalf("send %d: %+v", i, r)
		}
	}
	r := e.n.Send(context.Background(), senders.Robot{URL: url}, alert)
	if r.Outcome != senders.Retryable || *r.PlatformCode != 130101 || r.RetryAfter != 10*time.Minute {
		t.Fatalf("%+v", r)
	}
	e.clock.Advance(10*time.Minute + time.Second)
	if r := e.n.Send(context.Background(), senders.Robot{URL: url}, alert); r.Outcome != senders.Sent {
		t.Fatalf("after the throttle: %+v", r)
	}
}

func TestTransportFailuresAreRetryable(t *testing.T) {
	e := setup(t, func(c *notify.Config) { c.Timeout = 300 * time.Millisecond })
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.WeCom, Token: "wc-key-0123456789"})
	tg := senders.Robot{URL: url}

	e.fake.FailNext("wc-key-0123456789", 1, fakeplatform.Fault5xx)
	r := e.n.Send(context.Background(), tg, alert)
	if r.Outcome != senders.Retryable || r.HTTPStatus != 503 {
		t.Fatalf("5xx: %+v", r)
	}
	e.fake.FailNext("wc-key-0123456789", 1, fakeplatform.FaultClose)
	r = e.n.Send(context.Background(), tg, alert)
	if r.Outcome != senders.Retryable || r.HTTPStatus != 0 {
		t.Fatalf("closed connection: %+v", r)
	}
	leaks(t, r, "wc-key-0123456789")
	e.fake.FailNext("wc-key-0123456789", 1, fakeplatform.FaultHang)
	r = e.n.Send(context.Background(), tg, alert)
	// Either the whole-request deadline or the response-header timeout (both
	// 300ms here) may fire first; each names the limit.
	if r.Outcome != senders.Retryable || !strings.Contains(r.Err.Error(), "timeout") || r.Duration > 2*time.Second {
		t.Fatalf("hang: %+v", r)
	}
	leaks(t, r, "wc-key-0123456789")
	if r := e.n.Send(context.Background(), tg, alert); r.Outcome != senders.Sent {
		t.Fatalf("after the faults: %+v", r)
	}
}

// listener counts connections to an address that must never be reached.
func listener(t *testing.T, network, addr string) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), &hits
}

func TestSendRefusesInternalDestinationsAndSendsNothing(t *testing.T) {
	addr4, hits4 := listener(t, "tcp4", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(addr4)
	n, err := notify.New(notify.Config{Platforms: platforms.Registry})
	if err != nil {
		t.Fatal(err)
	}
	path := "/robot/send?access_token=tok0123456789"
	for url, want := range map[string]string{
		"http://127.0.0.1:" + port + path:                 "127.0.0.1 is loopback",
		"http://[::1]:" + port + path:                     "::1 is loopback",
		"http://169.254.169.254" + path:                   "link-local (cloud metadata)",
		"http://[fd00:ec2::254]" + path:                   "unique-local",
		"http://10.0.0.1" + path:                          "10.0.0.1 is private",
		"http://100.64.0.1" + path:                        "carrier-grade NAT",
		"http://[::ffff:127.0.0.1]:" + port + path:        "IPv4-mapped form of 127.0.0.1",
		"http://[64:ff9b::7f00:1]:" + port + path:         "NAT64 form of 127.0.0.1",
		"http://[2002:7f00:1::]:" + port + path:           "6to4 form of 127.0.0.1",
		"http://2130706433:" + port + path:                "non-standard form",
		"http://0177.0.0.1:" + port + path:                "non-standard form",
		"http://0x7f.1:" + port + path:                    "non-standard form",
		"http://localhost:" + port + path:                 "localhost is not an official platform host",
		"file:///etc/passwd":                              `scheme "file" is not allowed`,
		"gopher://127.0.0.1:" + port + "/_POST":           `scheme "gopher" is not allowed`,
		"https://user:hunter2pw@oapi.dingtalk.com" + path: "credentials",
		"http://oapi.dingtalk.com" + path:                 "must be reached over https",
	} {
		r := n.Send(context.Background(), senders.Robot{URL: url, Platform: senders.DingTalk}, alert)
		if r.Outcome != senders.Permanent || !errors.Is(r.Err, notify.ErrRefused) || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("%s: %v %v; want refused saying %q", url, r.Outcome, r.Err, want)
		}
		leaks(t, r, "tok0123456789", "hunter2pw")
	}
	if hits4.Load() != 0 {
		t.Fatalf("a refused URL reached the listener %d times", hits4.Load())
	}
}

func TestListedNameResolvingToLoopbackIsRefusedAtConnect(t *testing.T) {
	addr, hits := listener(t, "tcp4", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(addr)
	url := "http://localhost:" + port + "/robot/send?access_token=tok0123456789"

	g, _ := notify.NewGuard(platforms.Registry, []string{"localhost"})
	n, _ := notify.New(notify.Config{Platforms: platforms.Registry, Guard: g})
	r := n.Send(context.Background(), senders.Robot{URL: url}, alert)
	if r.Outcome != senders.Permanent || !errors.Is(r.Err, notify.ErrRefused) || !strings.Contains(r.Err.Error(), "loopback") {
		t.Fatalf("name listed, address not: %v %v", r.Outcome, r.Err)
	}
	leaks(t, r, "tok0123456789")
	if hits.Load() != 0 {
		t.Fatal("the refused connection reached the server")
	}

	g, _ = notify.NewGuard(platforms.Registry, []string{"localhost", "127.0.0.0/8", "::1"})
	n, _ = notify.New(notify.Config{Platforms: platforms.Registry, Guard: g})
	if r := n.Send(context.Background(), senders.Robot{URL: url}, alert); r.Outcome != senders.Sent {
		t.Fatalf("name and range listed: %+v", r)
	}
	if hits.Load() != 1 {
		t.Fatalf("listener hit %d times; want 1", hits.Load())
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	internal, hits := listener(t, "tcp4", "127.0.0.2:0")
	robot := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+internal+"/latest/meta-data/?access_token=x", http.StatusTemporaryRedirect)
	})}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go robot.Serve(ln)
	defer robot.Close()
	// Both loopback addresses are listed: only "not following" keeps us out.
	g, _ := notify.NewGuard(platforms.Registry, []string{"127.0.0.1", "127.0.0.2"})
	n, _ := notify.New(notify.Config{Platforms: platforms.Registry, Guard: g})
	r := n.Send(context.Background(), senders.Robot{URL: "http://" + ln.Addr().String() + "/robot/send?access_token=tok"}, alert)
	if r.Outcome != senders.Permanent || r.HTTPStatus != 307 || !strings.Contains(r.Err.Error(), "redirects are not followed") {
		t.Fatalf("%+v", r)
	}
	if hits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

func TestAnswersAreReadOnlyUpToTheLimit(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"`+strings.Repeat(" ", 100)+`}`)
	})}
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	g, _ := notify.NewGuard(platforms.Registry, []string{"127.0.0.1"})
	url := "http://" + ln.Addr().String() + "/robot/send?access_token=tok"
	n, _ := notify.New(notify.Config{Platforms: platforms.Registry, Guard: g})
	if r := n.Send(context.Background(), senders.Robot{URL: url}, alert); r.Outcome != senders.Sent {
		t.Fatalf("default limit: %+v", r)
	}
	n, _ = notify.New(notify.Config{Platforms: platforms.Registry, Guard: g, MaxResponseBytes: 32})
	if r := n.Send(context.Background(), senders.Robot{URL: url}, alert); r.Outcome != senders.Permanent {
		t.Fatalf("an answer cut at 32 bytes was understood: %+v", r)
	}
}

func TestProxyCarriesTrafficButTheAllowListStillAppliesToDestinations(t *testing.T) {
	e := setup(t)
	e.fake.AddRobot(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt"})
	target, _ := url.Parse(e.fake.URL)
	var proxied atomic.Int32
	// The proxy (on an unlisted loopback address) forwards every request to
	// the fake, whatever host it names.
	proxy := &http.Server{Handler: &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		proxied.Add(1)
		pr.SetURL(target)
		pr.Out.URL.Path, pr.Out.URL.RawQuery = pr.In.URL.Path, pr.In.URL.RawQuery
	}}}
	ln, _ := net.Listen("tcp4", "127.0.0.1:0")
	go proxy.Serve(ln)
	defer proxy.Close()

	g, _ := notify.NewGuard(platforms.Registry, []string{"relay.internal.test"})
	n, err := notify.New(notify.Config{Platforms: platforms.Registry, Guard: g, ProxyURL: "http://" + ln.Addr().String(), Version: "9"})
	if err != nil {
		t.Fatal(err)
	}
	r := n.Send(context.Background(), senders.Robot{URL: "http://relay.internal.test/robot/send?access_token=dt"}, alert)
	if r.Outcome != senders.Sent || proxied.Load() != 1 {
		t.Fatalf("via proxy: %+v (proxied %d)", r, proxied.Load())
	}
	if ua := e.fake.Received("dt")[0].UserAgent; ua != "Herald/9" {
		t.Fatalf("user agent %q", ua)
	}
	for _, u := range []string{"http://other.internal.test/robot/send?access_token=dt", "http://127.0.0.1/robot/send?access_token=dt"} {
		r = n.Send(context.Background(), senders.Robot{URL: u}, alert)
		if r.Outcome != senders.Permanent || !errors.Is(r.Err, notify.ErrRefused) {
			t.Fatalf("%s via proxy: %+v", u, r)
		}
	}
	if proxied.Load() != 1 {
		t.Fatalf("refused destinations reached the proxy")
	}
	if _, err := notify.New(notify.Config{Platforms: platforms.Registry, ProxyURL: "socks5://127.0.0.1:1080"}); !errors.Is(err, notify.ErrBadProxy) {
		t.Fatal("a socks5 proxy was accepted")
	}
}

func TestRenderShowsTheRequestWithSignaturesRedacted(t *testing.T) {
	e := setup(t)
	dt := e.fake.RobotURL(fakeplatform.Robot{Platform: senders.DingTalk, Token: "dt"})
	req, err := e.n.Render(senders.Robot{URL: dt, Secret: "S"}, alert)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(req.URL, "&timestamp=REDACTED&sign=REDACTED") || !strings.Contains(string(req.Body), "SchedulerX") {
		t.Fatalf("DingTalk render %s %s", req.URL, req.Body)
	}
	lk := e.fake.RobotURL(fakeplatform.Robot{Platform: senders.Lark, Token: "lk"})
	req, err = e.n.Render(senders.Robot{URL: lk, Secret: "S"}, alert)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(req.Body), `{"timestamp":"REDACTED","sign":"REDACTED","msg_type":"interactive"`) {
		t.Fatalf("Lark render %s", req.Body)
	}
	if _, err := e.n.Render(senders.Robot{URL: "http://10.0.0.1/robot/send?access_token=x"}, alert); !errors.Is(err, notify.ErrRefused) {
		t.Fatalf("render of a refused URL: %v", err)
	}
	if e.fake.Requests() != 0 {
		t.Fatal("Render sent something")
	}
}

func TestInvalidMessagesAndUnknownPlatformsArePermanent(t *testing.T) {
	e := setup(t)
	url := e.fake.AddRobot(fakeplatform.Robot{Platform: senders.WeCom, Token: "wc"})
	for _, c := range []struct {
		tg senders.Robot
		m  senders.Message
	}{
		{senders.Robot{URL: url}, senders.Message{}},
		{senders.Robot{URL: url}, senders.Message{Title: "t", Severity: "LOUD"}},
		{senders.Robot{URL: "http://127.0.0.1:1/hook"}, alert},
	} {
		if r := e.n.Send(context.Background(), c.tg, c.m); r.Outcome != senders.Permanent || r.Err == nil {
			t.Errorf("%+v: %+v", c, r)
		}
	}
	if e.fake.Requests() != 0 {
		t.Fatal("an invalid send reached the platform")
	}
}

func BenchmarkDeliveryAcrossThousandRobots(b *testing.B) {
	fake := fakeplatform.New()
	fake.Latency = 50 * time.Millisecond
	fake.DisableRateLimits = true
	if err := fake.Start(); err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	var targets []senders.Robot
	for i := range 1000 {
		p := []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark}[i%3]
		targets = append(targets, senders.Robot{URL: fake.AddRobot(fakeplatform.Robot{Platform: p, Token: fmt.Sprintf("r%04d", i), Secret: "s"}), Secret: "s"})
	}
	g, _ := notify.NewGuard(platforms.Registry, []string{"127.0.0.1"})
	n, _ := notify.New(notify.Config{Platforms: platforms.Registry, Guard: g})
	var next atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tg := targets[next.Add(1)%int64(len(targets))]
			if r := n.Send(context.Background(), tg, alert); r.Outcome != senders.Sent {
				b.Errorf("%+v", r)
			}
		}
	})
}
