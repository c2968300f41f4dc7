// Package notify sends rendered messages to robots: the Notifier (the HTTP
// client, with timeouts, a size limit on answers and an optional proxy) and
// the Guard that decides which destinations may be reached, checked when a
// webhook is saved and again on the address actually dialled.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heraldhq/herald/senders"
)

// Config is the Notifier's configuration, read by the caller (server.go).
type Config struct {
	// Platforms are the platforms the Notifier speaks; required.
	Platforms *senders.Registry
	// Options configure every platform's builder.
	Options          senders.Options
	Guard            *Guard        // nil: official hosts only
	Timeout          time.Duration // whole request; 0: DefaultTimeout
	ProxyURL         string        // http(s) proxy for all webhook traffic; "" for none
	Version          string        // sent as User-Agent: Herald/<Version>
	MaxResponseBytes int64         // 0: DefaultMaxResponseBytes
	// Now is the clock used for signing; nil: time.Now. Tests against a fake
	// platform with a shifted clock set it.
	Now func() time.Time
}

// Notifier sends messages to webhooks of every registered platform.
type Notifier struct {
	platforms *senders.Registry
	guard     *Guard
	client    *http.Client
	builders  map[senders.Platform]senders.Builder
	timeout   time.Duration
	maxBody   int64
	userAgent string
	now       func() time.Time
}

// New builds a Notifier with the senders.Builder of every registered platform.
func New(cfg Config) (*Notifier, error) {
	if cfg.Platforms == nil {
		return nil, errors.New("a notifier needs its platforms")
	}
	n := &Notifier{
		platforms: cfg.Platforms,
		guard:     cfg.Guard,
		builders:  map[senders.Platform]senders.Builder{},
		timeout:   cfg.Timeout,
		maxBody:   cfg.MaxResponseBytes,
		userAgent: "Herald/" + cfg.Version,
		now:       cfg.Now,
	}
	if n.guard == nil {
		n.guard, _ = NewGuard(cfg.Platforms, nil)
	}
	if n.timeout <= 0 {
		n.timeout = DefaultTimeout
	}
	if n.maxBody <= 0 {
		n.maxBody = DefaultMaxResponseBytes
	}
	if cfg.Version == "" {
		n.userAgent = "Herald/dev"
	}
	if n.now == nil {
		n.now = time.Now
	}
	for _, d := range cfg.Platforms.All() {
		n.builders[d.Platform] = d.NewBuilder(cfg.Options)
	}
	proxy, err := parseProxyURL(cfg.ProxyURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadProxy, err)
	}
	n.client = newHTTPClient(n.guard, n.timeout, proxy)
	return n, nil
}

// Guard returns the guard the Notifier applies, for save-time checks.
func (n *Notifier) Guard() *Guard { return n.guard }

// Platforms returns the platforms the Notifier speaks.
func (n *Notifier) Platforms() *senders.Registry { return n.platforms }

// Send delivers one message. It never returns an error value: everything,
// including a refused URL, is a senders.Result the dispatcher can act on.
func (n *Notifier) Send(ctx context.Context, t senders.Robot, m senders.Message) senders.Result {
	start := time.Now()
	r := n.send(ctx, t, m)
	r.Duration = time.Since(start)
	return r
}

func (n *Notifier) send(ctx context.Context, t senders.Robot, m senders.Message) senders.Result {
	b, p, req, err := n.build(t, m, n.now())
	if err != nil {
		return permanentResult(err)
	}
	name := n.platforms.Name(p)
	r := n.post(ctx, b, name, req)
	if req.Fallback != "" {
		r.Notes = append(r.Notes, "card sent as markdown: "+req.Fallback)
	}
	if req.Companion != nil && r.Outcome == senders.Sent {
		// The message is delivered whatever becomes of its companion: retrying would send it
		// twice. A companion that fails is noted on the attempt.
		if c := n.post(ctx, b, name, *req.Companion); c.Outcome != senders.Sent {
			r.Notes = append(r.Notes, "the mentions' companion text message failed: "+errorString(c.Err))
		}
	}
	return r
}

func errorString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// post makes one webhook call and classifies its answer.
func (n *Notifier) post(ctx context.Context, b senders.Builder, name string, req senders.Request) senders.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, n.timeout,
		fmt.Errorf("webhook request took longer than the %s timeout", n.timeout))
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return permanentResult(fmt.Errorf("prepare %s request: %w", name, redactErr(err)))
	}
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	hreq.Header.Set("User-Agent", n.userAgent)
	resp, err := n.client.Do(hreq)
	if err != nil {
		return transportFailure(ctx, name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, n.maxBody))
	if err != nil {
		r := transportFailure(ctx, name, err)
		r.HTTPStatus = resp.StatusCode
		return r
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		where := "elsewhere"
		if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && loc.Host != "" {
			where = "to " + loc.Host
		}
		return senders.Result{
			Outcome:    senders.Permanent,
			HTTPStatus: resp.StatusCode,
			Err: fmt.Errorf("%s webhook answered HTTP %d redirecting %s; redirects are not followed, use the final URL",
				name, resp.StatusCode, where),
		}
	}
	r := b.Classify(resp.StatusCode, body)
	r.HTTPStatus = resp.StatusCode
	r.Truncated = req.Truncated
	if r.Outcome == senders.Retryable && r.RetryAfter == 0 {
		r.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), n.now())
	}
	return r
}

// Render returns exactly what the robot would receive, with signature values
// (sign, timestamp) replaced by senders.RedactedPlaceholder, for previews.
// The URL keeps its token: a preview is shown to whoever configured the
// contact.
func (n *Notifier) Render(t senders.Robot, m senders.Message) (senders.Request, error) {
	_, _, req, err := n.build(t, m, n.now())
	if err != nil {
		return senders.Request{}, err
	}
	out := senders.RedactSignature(req)
	if req.Companion != nil {
		companion := senders.RedactSignature(*req.Companion)
		out.Companion = &companion
	}
	return out, nil
}

// build picks the builder, applies the guard and renders the request; it is
// the part Send and Render share.
func (n *Notifier) build(t senders.Robot, m senders.Message, now time.Time) (senders.Builder, senders.Platform, senders.Request, error) {
	if err := n.guard.CheckURL(t.URL); err != nil {
		return nil, "", senders.Request{}, err
	}
	p, err := n.platforms.Recognize(t.URL, t.Platform)
	if err != nil {
		return nil, "", senders.Request{}, err
	}
	name := n.platforms.Name(p)
	b, ok := n.builders[p]
	if !ok {
		return nil, "", senders.Request{}, fmt.Errorf("no sender registered for platform %s", p)
	}
	t.Platform = p
	m, err = m.Normalize()
	if err != nil {
		return nil, "", senders.Request{}, fmt.Errorf("%s message: %w", name, err)
	}
	req, err := b.Build(t, m, now)
	if err != nil {
		return nil, "", senders.Request{}, fmt.Errorf("build %s message: %w", name, err)
	}
	// Builders only add query parameters, but the request URL is what gets
	// dialled, so it is the one to check.
	if err := n.guard.CheckURL(req.URL); err != nil {
		return nil, "", senders.Request{}, err
	}
	return b, p, req, nil
}

func permanentResult(err error) senders.Result {
	return senders.Result{Outcome: senders.Permanent, Err: err}
}

// transportFailure classifies an error before a complete answer arrived. A
// connection refused by the Guard is permanent; everything else (timeouts,
// resets, DNS) may be transient.
func transportFailure(ctx context.Context, name string, err error) senders.Result {
	err = redactErr(err)
	if errors.Is(err, ErrRefused) {
		return permanentResult(fmt.Errorf("send to %s: %w", name, err))
	}
	if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	return senders.Result{Outcome: senders.Retryable, Err: fmt.Errorf("send to %s: %w", name, err)}
}

// redactErr masks the URL that net/http puts in its errors; it carries the
// webhook's token or key.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = senders.RedactURL(ue.URL)
	}
	return err
}

func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
