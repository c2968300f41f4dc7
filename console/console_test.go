package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/heraldhq/herald/console"
)

func get(t *testing.T, h http.Handler, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(body)
}

func TestRootServesTheNotificationManagePage(t *testing.T) {
	resp, body := get(t, console.Handler(), "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache so a new release is picked up at once", cc)
	}
	for _, want := range []string{"<title>Notification Manage", `src="/console/app.js"`, `href="/console/style.css"`, `rel="icon"`} {
		if !strings.Contains(body, want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}

func TestAssetsHaveTheirContentTypes(t *testing.T) {
	h := console.Handler()
	for path, want := range map[string]string{
		"/console/app.js":                      "text/javascript; charset=utf-8",
		"/console/api.js":                      "text/javascript; charset=utf-8",
		"/console/contacts.js":                 "text/javascript; charset=utf-8",
		"/console/groups.js":                   "text/javascript; charset=utf-8",
		"/console/alerts.js":                   "text/javascript; charset=utf-8",
		"/console/ui.js":                       "text/javascript; charset=utf-8",
		"/console/platforms.js":                "text/javascript; charset=utf-8",
		"/console/style.css":                   "text/css; charset=utf-8",
		"/console/favicon.svg":                 "image/svg+xml",
		"/playground":                          "text/html; charset=utf-8",
		"/console/playground.js":               "text/javascript; charset=utf-8",
		"/console/vendor/graphiql.min.js":      "text/javascript; charset=utf-8",
		"/console/vendor/graphiql.min.css":     "text/css; charset=utf-8",
		"/console/vendor/graphiql.LICENSE.txt": "text/plain; charset=utf-8",
	} {
		resp, body := get(t, h, path)
		if resp.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s = %d with %d bytes", path, resp.StatusCode, len(body))
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != want {
			t.Errorf("GET %s: Content-Type = %q, want %q", path, ct, want)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
	}
}

func TestUnknownPathsAre404(t *testing.T) {
	h := console.Handler()
	for _, path := range []string{"/console/missing.js", "/console/", "/console/../console.go", "/contacts", "/favicon.ico",
		"/console/playground.html", "/console/index.html"} {
		if resp, _ := get(t, h, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestUnchangedAssetsRevalidateWithNotModified(t *testing.T) {
	h := console.Handler()
	resp, _ := get(t, h, "/console/app.js")
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp, body := get(t, h, "/console/app.js", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match with the current ETag = %d with %d bytes, want 304 and no body", resp.StatusCode, len(body))
	}
}

// The pages may load only what Herald itself serves: no CDN, and nothing injected runs. (The
// browser suite proves it with every other host blocked.)
func TestThePagesLoadNothingFromElsewhere(t *testing.T) {
	for _, page := range []string{"/", console.PlaygroundPath} {
		resp, body := get(t, console.Handler(), page)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "style-src 'self';"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %s", page, csp, want)
			}
		}
		for _, external := range []string{"http://", "https://", "//cdn", "<script>", "style="} {
			if strings.Contains(body, external) {
				t.Errorf("%s refers to %s", page, external)
			}
		}
	}
}

// The embedded trusted-document list is the one documents.js gives: `go generate ./console`
// rewrites it, and this fails until it has been run after an operation changed.
func TestDocumentListIsCurrent(t *testing.T) {
	src, err := os.ReadFile("static/documents.js")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := console.ParseDocuments(src)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := console.DocumentsJSON(docs)
	have, err := os.ReadFile("documents.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != string(want) {
		t.Fatal("console/documents.json is stale: run go generate ./console")
	}
	if got := console.Documents(); len(got) != len(docs) {
		t.Fatalf("embedded %d documents, documents.js has %d", len(got), len(docs))
	}
	// Every module sends only what documents.js lists: no other gql(...) call site builds a query.
	entries, _ := os.ReadDir("static")
	for _, e := range entries {
		if e.Name() == "documents.js" || !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		b, _ := os.ReadFile("static/" + e.Name())
		for _, bad := range []string{"gql('", "gql(`", `gql("`, "query {", "mutation {", "query(", "mutation("} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s holds an operation (%q): put it in documents.js", e.Name(), bad)
			}
		}
	}
	if _, err := console.ParseDocuments([]byte("export const X = `query X { ${field} }`;")); err == nil {
		t.Fatal("an interpolated document was accepted")
	}
}
