// Package fakeplatform is a loopback HTTP server that behaves like the
// DingTalk, WeCom and Lark webhook endpoints, for tests, demos and
// benchmarks. It speaks the real paths and answers with the real codes:
// signatures are verified with the real formulas and the one-hour window,
// keyword security and size limits are enforced, and rate limits throttle
// exactly as the platforms document (DingTalk's 10-minute silence included).
// Cards (a DingTalk actionCard, a WeCom text_notice template_card, a Lark
// JSON 2.0 card) are taken only when well formed, and refused with the code
// and field the platform would name. The clock is injectable so throttling
// tests do not sleep.
//
// Every accepted message is recorded; rejections are counted by code.
package fakeplatform

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/senders"
)

// Robot is one webhook the fake knows.
type Robot struct {
	Platform senders.Platform
	Token    string   // DingTalk access_token, WeCom key or Lark hook token; unique across platforms
	Secret   string   // signing secret (DingTalk, Lark); empty: unsigned
	Keywords []string // keyword security; empty: none
}

// Fault is a failure the fake can be told to produce instead of answering.
type Fault int

const (
	// Fault5xx answers HTTP 503 with an HTML page, like a load balancer.
	Fault5xx Fault = iota + 1
	// FaultHang never answers; the request ends when the client gives up or
	// the server closes.
	FaultHang
	// FaultClose drops the connection without an answer.
	FaultClose
)

// Received is one accepted message.
type Received struct {
	Platform senders.Platform
	Token    string
	At       time.Time // by the fake's clock
	MsgType  string
	// Text is every text-like value the platform would show (content, title,
	// text), joined by newlines: what keyword security and readers see.
	Text    string
	Body    []byte
	Mobiles []string // DingTalk atMobiles, WeCom mentioned_mobile_list
	// UserIDs are the people mentioned by id: DingTalk atUserIds, WeCom mentioned_list and
	// markdown's <@userid>, Lark's <at> markup and post at elements ("all" excluded).
	UserIDs []string
	// AtAll: DingTalk isAtAll, "@all" in a WeCom list, a Lark mention of all.
	AtAll bool
	// Links are the URLs a card's buttons open: DingTalk singleURL or btns, WeCom card_action
	// then jump_list, Lark buttons; in order.
	Links     []string
	UserAgent string
}

// Server is a fake of all three platforms. Set Now, Latency and
// DisableRateLimits before Start; use SetLatency to change latency later.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port), set by Start.
	URL string
	// Now is the platforms' clock; nil means time.Now.
	Now func() time.Time
	// Latency delays every answer, as a distant platform would.
	Latency time.Duration
	// DisableRateLimits turns off rate limiting for benchmarks that measure
	// Herald rather than the platforms' budgets.
	DisableRateLimits bool
	// OnAccept, when set before Start, is called with every accepted message; the demo logs them.
	OnAccept func(Received)

	mu       sync.Mutex
	latency  time.Duration
	robots   map[string]*robot
	faults   map[string][]Fault // by token; "" for any robot
	accepted []Received
	rejected map[string]map[int]int // by token, then code
	requests int

	srv     *http.Server
	ln      net.Listener
	closing chan struct{}
	once    sync.Once
}

type robot struct {
	Robot
	mu             sync.Mutex
	sent           []time.Time // accepted sends within the last minute
	throttledUntil time.Time
}

// Answers by platform. The limits are the platforms' own, not Herald's.
const (
	DingTalkMaxBody     = 20000
	WeComMaxText        = 2048
	WeComMaxMarkdown    = 4096
	LarkMaxBody         = 20 << 10
	DingTalkPerMinute   = 20
	DingTalkThrottle    = 10 * time.Minute
	WeComPerMinute      = 20
	LarkPerSecond       = 5
	LarkPerMinute       = 100
	SignatureWindow     = time.Hour
	maxRequestBodyBytes = 1 << 20
)

// New returns a server that is not listening yet.
func New() *Server {
	return &Server{
		robots:   map[string]*robot{},
		faults:   map[string][]Fault{},
		rejected: map[string]map[int]int{},
		closing:  make(chan struct{}),
	}
}

// Start listens on a random loopback port and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("fake platform listen: %w", err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.latency = s.Latency
	mux := http.NewServeMux()
	mux.HandleFunc("/robot/send", s.dingtalk)
	mux.HandleFunc("/cgi-bin/webhook/send", s.wecom)
	mux.HandleFunc("/open-apis/bot/v2/hook/{token}", s.lark)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return nil
}

// Close stops the server and ends hanging requests.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		if s.srv != nil {
			s.srv.Close()
		}
	})
}

// SetLatency changes the per-request latency while serving.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// AddRobot registers a robot and returns its webhook URL. Call after Start.
func (s *Server) AddRobot(r Robot) string {
	s.mu.Lock()
	s.robots[r.Token] = &robot{Robot: r}
	s.mu.Unlock()
	return s.RobotURL(r)
}

// RobotURL is the webhook URL of r on this server, on the platform's real path.
func (s *Server) RobotURL(r Robot) string {
	switch r.Platform {
	case senders.DingTalk:
		return s.URL + "/robot/send?access_token=" + r.Token
	case senders.WeCom:
		return s.URL + "/cgi-bin/webhook/send?key=" + r.Token
	default:
		return s.URL + "/open-apis/bot/v2/hook/" + r.Token
	}
}

// FailNext makes the next n requests to the robot with this token (any
// robot, when token is "") fail with f instead of being answered.
func (s *Server) FailNext(token string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[token] = append(s.faults[token], f)
	}
}

// Received returns the accepted messages of one robot ("" for all), oldest first.
func (s *Server) Received(token string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, m := range s.accepted {
		if token == "" || m.Token == token {
			out = append(out, m)
		}
	}
	return out
}

// Rejected counts rejected requests of one robot ("" for all) by code.
func (s *Server) Rejected(token string) map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]int{}
	for tok, codes := range s.rejected {
		if token != "" && tok != token {
			continue
		}
		for c, n := range codes {
			out[c] += n
		}
	}
	return out
}

// Requests counts every request that reached a platform path.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// verdict is a platform's answer: a code, its message, and the JSON shape.
type verdict struct {
	code int
	msg  string
}

// begin does what every platform path shares: counting, latency, robot
// lookup and injected faults. It returns false when the request is already
// answered (or dropped).
func (s *Server) begin(w http.ResponseWriter, r *http.Request, token string) (*robot, []byte, bool) {
	s.mu.Lock()
	s.requests++
	latency := s.latency
	rb := s.robots[token]
	var fault Fault
	for _, key := range []string{token, ""} {
		if q := s.faults[key]; len(q) > 0 && (key == "" || rb != nil) {
			fault, s.faults[key] = q[0], q[1:]
			break
		}
	}
	s.mu.Unlock()

	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBodyBytes))
	if err != nil {
		return nil, nil, false
	}
	if latency > 0 && !s.wait(r.Context(), latency) {
		return nil, nil, false
	}
	switch fault {
	case Fault5xx:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
		return nil, nil, false
	case FaultHang:
		s.wait(r.Context(), 0)
		return nil, nil, false
	case FaultClose:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return nil, nil, false
	}
	return rb, body, true
}

// wait sleeps for d (forever when d is 0) unless the request or the server
// ends first; it reports whether the full time passed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

func (s *Server) reject(token string, code int) {
	s.mu.Lock()
	if s.rejected[token] == nil {
		s.rejected[token] = map[int]int{}
	}
	s.rejected[token][code]++
	s.mu.Unlock()
}

func (s *Server) accept(m Received) {
	s.mu.Lock()
	s.accepted = append(s.accepted, m)
	s.mu.Unlock()
	if s.OnAccept != nil {
		s.OnAccept(m)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// allow applies a robot's sliding-window limits at now and, when the send is
// allowed, counts it. DingTalk additionally silences the robot for 10 minutes
// once the limit is hit.
func (rb *robot) allow(now time.Time, perSecond, perMinute int, throttle time.Duration) bool {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if now.Before(rb.throttledUntil) {
		return false
	}
	kept := rb.sent[:0]
	for _, t := range rb.sent {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	rb.sent = kept
	inSecond := 0
	for _, t := range rb.sent {
		if now.Sub(t) < time.Second {
			inSecond++
		}
	}
	if len(rb.sent) >= perMinute || (perSecond > 0 && inSecond >= perSecond) {
		if throttle > 0 {
			rb.throttledUntil = now.Add(throttle)
		}
		return false
	}
	rb.sent = append(rb.sent, now)
	return true
}

// withinWindow is the platforms' replay protection: a signature's timestamp
// must be within an hour of their clock, either way.
func withinWindow(ts, now time.Time) bool {
	d := now.Sub(ts)
	return d <= SignatureWindow && d >= -SignatureWindow
}

// texts collects the text-like values of a decoded JSON value: what the
// platforms show and search for keywords. Links are not text.
func texts(v any, key string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		// Sorted, so Received.Text is stable: title before text/content
		// would be nicer, but stable is what assertions need.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			texts(x[k], k, out)
		}
	case []any:
		for _, e := range x {
			texts(e, key, out)
		}
	case string:
		switch key {
		case "text", "title", "content":
			*out = append(*out, x)
		}
	}
}

// httpURL is the platforms' test of a button's target: an absolute http(s) URL. It is written
// apart from the senders' own so that the fake does not share their mistakes.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func hmacB64(key, msg string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
