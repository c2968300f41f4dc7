package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/inbound"
	"github.com/heraldhq/herald/metrics"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// securedMux serves the real routes with an admin token and the given security settings.
func securedMux(t *testing.T, sec securityConfig) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(testMux(modelstest.SQLite(t), "admin-token", false, sec))
	t.Cleanup(srv.Close)
	return srv
}

// testMux is newMux over db, with what run would give it but no dispatcher.
func testMux(db modelstest.DB, adminToken string, open bool, sec securityConfig) http.Handler {
	store := models.NewStore(db.Gorm, platforms.Registry.Recognize)
	notifier, _ := notify.New(notify.Config{Platforms: platforms.Registry})
	outbox := delivery.NewOutbox(store, notifier)
	return newMux(endpoints{db: db.Gorm, resolver: &graph.Resolver{Store: store, Outbox: outbox, Notifier: notifier},
		metrics: metrics.New(outbox.CountDeliveries), authn: auth.New(store, adminToken, open), security: sec,
		graph: graph.Options{Introspection: sec.Introspection},
		hooks: inbound.New(inbound.Config{Store: store, Outbox: outbox, Waker: noWaker{}})})
}

type noWaker struct{}

func (noWaker) Wake() {}

func preflight(t *testing.T, base, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, base+"/query", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCORSAllowsListedOriginsOnly(t *testing.T) {
	srv := securedMux(t, securityConfig{CORSOrigins: []string{"https://console.example.com"}})
	ok := preflight(t, srv.URL, "https://console.example.com")
	if ok.Header.Get("Access-Control-Allow-Origin") != "https://console.example.com" ||
		!strings.Contains(strings.ToLower(ok.Header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("listed origin: %d %v", ok.StatusCode, ok.Header)
	}
	if bad := preflight(t, srv.URL, "https://evil.example.net"); bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unlisted origin allowed: %v", bad.Header)
	}
	// By default no origin is allowed at all.
	def := securedMux(t, securityConfig{})
	if resp := preflight(t, def.URL, "https://console.example.com"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("default allows %v", resp.Header)
	}
}

func TestMetricsNeedATokenUnlessPublic(t *testing.T) {
	get := func(url, token string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	private := securedMux(t, securityConfig{})
	if code := get(private.URL+"/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without token: %d", code)
	}
	if code := get(private.URL+"/metrics", "admin-token"); code != http.StatusOK {
		t.Fatalf("/metrics with token: %d", code)
	}
	for _, open := range []string{"/healthz", "/readyz"} {
		if code := get(private.URL+open, ""); code != http.StatusOK {
			t.Fatalf("%s without token: %d", open, code)
		}
	}
	public := securedMux(t, securityConfig{MetricsPublic: true})
	if code := get(public.URL+"/metrics", ""); code != http.StatusOK {
		t.Fatalf("public /metrics: %d", code)
	}
}

func TestIntrospectionCanBeSwitchedOff(t *testing.T) {
	query := func(srv *httptest.Server) string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", strings.NewReader(`{"query":"{ __schema { types { name } } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer admin-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	on := securedMux(t, securityConfig{Introspection: true})
	if body := query(on); !strings.Contains(body, `"Contact"`) {
		t.Fatalf("introspection on: %s", body)
	}
	off := securedMux(t, securityConfig{Introspection: false})
	if body := query(off); strings.Contains(body, `"Contact"`) || !strings.Contains(body, "introspection") {
		t.Fatalf("introspection off: %s", body)
	}
	if resp, _ := http.Get(off.URL + "/playground"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("playground with introspection off: %d", resp.StatusCode)
	}
	// The SDL for code generators: with a token while introspection is on, never while it is off.
	sdl := func(srv *httptest.Server, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/schema.graphql", nil)
		return send(t, req, token)
	}
	want, _ := os.ReadFile("schema.graphqls")
	if code, body := sdl(on, "admin-token"); code != http.StatusOK || body != string(want) {
		t.Fatalf("/schema.graphql with introspection on: %d, %d bytes of %d", code, len(body), len(want))
	}
	if code, _ := sdl(on, ""); code != http.StatusUnauthorized {
		t.Fatalf("/schema.graphql without a token: %d", code)
	}
	if code, _ := sdl(off, "admin-token"); code != http.StatusNotFound {
		t.Fatalf("/schema.graphql with introspection off: %d", code)
	}
}

func TestSchemaCommandPrintsTheSchema(t *testing.T) {
	cmd := heraldCommand(t)
	cmd.Args = append(cmd.Args, "schema")
	out, err := cmd.Output()
	want, _ := os.ReadFile("schema.graphqls")
	if err != nil || string(out) != string(want) {
		t.Fatalf("herald schema: %v, %d bytes of %d", err, len(out), len(want))
	}
}

func TestOpenModeOnlyOnLoopback(t *testing.T) {
	db := modelstest.SQLite(t)
	out, err := runToExit(t, heraldCommand(t, "HERALD_DATABASE="+db.URL, "HERALD_ADDR=0.0.0.0:0"))
	if err == nil || !strings.Contains(string(out), "HERALD_ADMIN_TOKEN") {
		t.Fatalf("started open to the network: %v\n%s", err, out)
	}
	base, _, _ := startServerProcess(t, "HERALD_DATABASE="+db.URL)
	resp, err := http.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ me { role } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"ADMIN"`) {
		t.Fatalf("open mode on loopback: %s", b)
	}
}

// curlQuery is the finding's probe as an operator would type it: curl, a GraphQL POST, and a
// Host header of the caller's choosing. It returns the HTTP status and the body.
func curlQuery(t *testing.T, url, host, token string) (int, string) {
	t.Helper()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed (apt-get install curl): the DNS-rebinding probe runs it")
	}
	args := []string{"-sS", "-X", "POST", url, "-H", "Content-Type: application/json",
		"-d", `{"query":"{ me { role } }"}`, "-w", "\n%{http_code}"}
	if host != "" {
		args = append(args, "-H", "Host: "+host)
	}
	if token != "" {
		args = append(args, "-H", "Authorization: Bearer "+token)
	}
	out, err := exec.Command(curl, args...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	text := strings.TrimSpace(string(out))
	cut := strings.LastIndexByte(text, '\n')
	code, _ := strconv.Atoi(text[cut+1:])
	return code, text[:max(cut, 0)]
}

// DNS rebinding: a page that points its own name at 127.0.0.1 reaches Herald with that name in
// Host. Open mode answers loopback names only; with tokens, HERALD_ALLOWED_HOSTS narrows the
// names served. Health probes answer any Host.
func TestOpenModeAnswersLoopbackHostsOnly(t *testing.T) {
	db := modelstest.SQLite(t)
	base, _, _ := startServerProcess(t, "HERALD_DATABASE="+db.URL)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	status, body := curlQuery(t, base+"/query", "evil.example.com", "")
	if status != http.StatusMisdirectedRequest || !strings.Contains(body, `"HOST_NOT_ALLOWED"`) || strings.Contains(body, `"ADMIN"`) {
		t.Fatalf("open mode, Host evil.example.com: %d %s", status, body)
	}
	if status, body := curlQuery(t, base+"/query", "evil.example.com:"+port, ""); status != http.StatusMisdirectedRequest {
		t.Fatalf("open mode, Host evil.example.com with the port: %d %s", status, body)
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, ""} {
		if status, body := curlQuery(t, base+"/query", host, ""); status != http.StatusOK || !strings.Contains(body, `"ADMIN"`) {
			t.Fatalf("open mode, Host %q: %d %s", host, status, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	req.Host = "evil.example.com"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz for any Host: %v %v", resp, err)
	}

	tokens, _, _ := startServerProcess(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL, "HERALD_ADMIN_TOKEN=admin-token")
	if status, body := curlQuery(t, tokens+"/query", "herald.example.com", "admin-token"); status != http.StatusOK || !strings.Contains(body, `"ADMIN"`) {
		t.Fatalf("tokens, any Host by default: %d %s", status, body)
	}
	listed, _, _ := startServerProcess(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL, "HERALD_ADMIN_TOKEN=admin-token",
		"HERALD_ALLOWED_HOSTS=herald.example.com")
	if status, body := curlQuery(t, listed+"/query", "herald.example.com", "admin-token"); status != http.StatusOK {
		t.Fatalf("listed Host: %d %s", status, body)
	}
	if status, body := curlQuery(t, listed+"/query", "other.example.com", "admin-token"); status != http.StatusMisdirectedRequest ||
		!strings.Contains(body, "HERALD_ALLOWED_HOSTS") {
		t.Fatalf("unlisted Host: %d %s", status, body)
	}
	out, err := runToExit(t, heraldCommand(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL, "HERALD_ADDR=127.0.0.1:0", "HERALD_ALLOWED_HOSTS=*"))
	if err == nil || !strings.Contains(string(out), "HERALD_ALLOWED_HOSTS") || !strings.Contains(string(out), "open mode") {
		t.Fatalf("open mode with HERALD_ALLOWED_HOSTS=*: %v\n%s", err, out)
	}
}
