package notify

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// DefaultTimeout bounds a whole webhook request, connect to last byte.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxResponseBytes bounds how much of an answer is read; real
	// verdicts are under 1 KiB, and a hostile endpoint must not fill memory.
	DefaultMaxResponseBytes = 64 << 10
	// connectTimeout bounds dialing and the TLS handshake separately, so a
	// black-holed address fails fast with a precise error instead of eating
	// the whole budget.
	connectTimeout = 5 * time.Second
)

// newHTTPClient builds the one client all webhook traffic uses. Redirects are
// never followed: a robot endpoint has no reason to redirect, and following
// one would let any allowed host bounce us to an internal address.
func newHTTPClient(g *Guard, timeout time.Duration, proxy *url.URL) *http.Client {
	dialer := &net.Dialer{Timeout: min(connectTimeout, timeout), KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   min(connectTimeout, timeout),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		// All robots of a platform share one host; the default of 2 idle
		// connections per host would reconnect for nearly every send.
		MaxIdleConnsPerHost: 128,
	}
	if proxy != nil {
		// Every connection goes to the proxy, which is trusted as configured;
		// destinations were checked by CheckURL before the request was made.
		tr.Proxy = http.ProxyURL(proxy)
	} else {
		dialer.Control = g.Control
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// ErrBadProxy marks a proxy setting New cannot use.
var ErrBadProxy = errors.New("webhook proxy")

func parseProxyURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("proxy URL does not parse")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil, fmt.Errorf("proxy URL scheme %q is not supported; use http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("proxy URL has no host")
	}
	return u, nil
}
