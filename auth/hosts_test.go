package auth_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/auth"
)

var listen8080 = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}

func TestHostPolicy(t *testing.T) {
	cases := []struct {
		name    string
		open    bool
		allowed []string
		serves  []string
		refuses []string
	}{
		{
			name:   "open mode: loopback names on the listen port",
			open:   true,
			serves: []string{"localhost:8080", "LOCALHOST:8080", "localhost.:8080", "127.0.0.1:8080", "127.0.0.2:8080", "[::1]:8080"},
			refuses: []string{"evil.example.com:8080", "evil.example.com", "localhost:9090", "localhost", "127.0.0.1",
				"localhost.evil.com:8080", "127.0.0.1.nip.io:8080", "0.0.0.0:8080", "10.0.0.1:8080", "", "::1:8080",
				"[::ffff:127.0.0.1]x:8080"},
		},
		{
			name:    "open mode: listed names are added",
			open:    true,
			allowed: []string{"herald.lan", "*.corp.example"},
			serves:  []string{"localhost:8080", "herald.lan:8080", "herald.lan", "a.corp.example:8080"},
			refuses: []string{"evil.example.com:8080", "corp.example:8080", "xcorp.example:8080"},
		},
		{
			name:    "tokens: any host by default",
			serves:  []string{"evil.example.com", "herald.example.com:443", "localhost:1"},
			refuses: nil,
		},
		{
			name:    "tokens: trailing dots, service names with _, IPv6 literals",
			allowed: []string{"herald.lan.", "my_service", "fd00::1", "[fd00::2]:8443"},
			serves:  []string{"herald.lan", "herald.lan.:80", "my_service:8080", "[fd00::1]:8080", "[fd00::2]:8443"},
			refuses: []string{"[fd00::2]:8080", "other_service", "herald.lan.evil.com"},
		},
		{
			name:    "tokens: only listed names, and loopback names",
			allowed: []string{"herald.example.com", "herald.internal:8443"},
			serves:  []string{"herald.example.com", "herald.example.com:8080", "herald.internal:8443", "localhost:9999", "127.0.0.1"},
			refuses: []string{"herald.internal:8080", "herald.internal", "evil.example.com", "example.com"},
		},
	}
	for _, c := range cases {
		p, err := auth.NewHostPolicy(c.open, listen8080, c.allowed)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, h := range c.serves {
			if !p.Allows(h) {
				t.Errorf("%s: refuses %q", c.name, h)
			}
		}
		for _, h := range c.refuses {
			if p.Allows(h) {
				t.Errorf("%s: serves %q", c.name, h)
			}
		}
	}
}

func TestHostPolicySettingErrors(t *testing.T) {
	for _, bad := range [][]string{{"*"}, {"bad host"}, {"*."}, {"a:b:c"}, {"ex ample.com:80"}, {"*.example.com:8080"}, {"[::1"}} {
		if _, err := auth.NewHostPolicy(true, listen8080, bad); err == nil {
			t.Errorf("open mode accepts HERALD_ALLOWED_HOSTS=%v", bad)
		}
	}
	if _, err := auth.NewHostPolicy(false, listen8080, []string{"*"}); err != nil {
		t.Errorf("* with tokens: %v", err)
	}
}

// The refusal is a 421 that says what is served; health probes answer any Host.
func TestHostPolicyMiddleware(t *testing.T) {
	p, err := auth.NewHostPolicy(true, listen8080, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("served")) }), "/healthz")
	serve := func(path, host string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := serve("/query", "evil.example.com:8080")
	var body struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusMisdirectedRequest ||
		len(body.Errors) != 1 || body.Errors[0].Extensions.Code != auth.CodeHostNotAllowed ||
		!strings.Contains(body.Errors[0].Message, "localhost, 127.0.0.1 and [::1] on port 8080") {
		t.Fatalf("/query for a foreign host: %d %s", w.Code, w.Body)
	}
	if w := serve("/", "evil.example.com:8080"); w.Code != http.StatusMisdirectedRequest || !strings.Contains(w.Body.String(), "open mode") {
		t.Fatalf("/ for a foreign host: %d %s", w.Code, w.Body)
	}
	// Forwarding headers are anyone's to send: only Host counts.
	r := httptest.NewRequest(http.MethodPost, "/query", nil)
	r.Host = "evil.example.com:8080"
	r.Header.Set("X-Forwarded-Host", "localhost:8080")
	r.Header.Set("Forwarded", "host=localhost:8080")
	fw := httptest.NewRecorder()
	if h.ServeHTTP(fw, r); fw.Code != http.StatusMisdirectedRequest {
		t.Fatalf("X-Forwarded-Host trusted: %d %s", fw.Code, fw.Body)
	}
	if w := serve("/healthz", "10.1.2.3:8080"); w.Body.String() != "served" {
		t.Fatalf("/healthz: %d %s", w.Code, w.Body)
	}
	if w := serve("/query", "localhost:8080"); w.Body.String() != "served" {
		t.Fatalf("localhost: %d %s", w.Code, w.Body)
	}
}
