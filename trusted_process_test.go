package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models/modelstest"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// asToken posts body (a JSON request) with token and returns the first error's code ("" for none)
// and the data.
func asToken(t *testing.T, base, token, body string) (code string, data string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return decodeAnswer(t, req, token)
}

func decodeAnswer(t *testing.T, req *http.Request, token string) (code string, data string) {
	t.Helper()
	_, raw := send(t, req, token)
	var res struct {
		Data   json.RawMessage
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatalf("not a GraphQL answer: %s", raw)
	}
	if len(res.Errors) > 0 {
		return res.Errors[0].Extensions.Code, string(res.Data)
	}
	return "", string(res.Data)
}

func request(query string, extra map[string]any) string {
	m := map[string]any{}
	if query != "" {
		m["query"] = query
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// With HERALD_TRUSTED_DOCUMENTS, a SENDER runs the listed documents (by text, by documentId,
// doc_id, Apollo's hash, or GET) and the console's, and nothing else; an admin keeps free-form
// operations unless strict mode takes them too.
func TestTrustedDocumentsBindTokensBelowAdmin(t *testing.T) {
	const mine = `query Mine { me { name role } }`
	hash := sha256Hex(mine)
	file := filepath.Join(t.TempDir(), "persisted-documents.json")
	list, _ := json.Marshal(map[string]string{"sha256:" + hash: mine})
	if err := os.WriteFile(file, list, 0o600); err != nil {
		t.Fatal(err)
	}
	base, _, _ := startServerProcess(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL, "HERALD_ADMIN_TOKEN=admin-token",
		"HERALD_TRUSTED_DOCUMENTS="+file)
	var created struct {
		CreateApiToken struct{ Token string }
	}
	code, data := asToken(t, base, "admin-token", request(`mutation { createApiToken(name: "ci", role: SENDER) { token } }`, nil))
	if code != "" || json.Unmarshal([]byte(data), &created) != nil || created.CreateApiToken.Token == "" {
		t.Fatalf("an admin's free-form mutation: %s %s", code, data)
	}
	sender := created.CreateApiToken.Token

	if code, data := asToken(t, base, sender, request(`{ contacts { totalCount } }`, nil)); code != "PERSISTED_QUERY_NOT_FOUND" || data != "null" {
		t.Fatalf("a SENDER's ad-hoc query: %s %s", code, data)
	}
	if code, _ := asToken(t, base, sender, request(`{ contacts { totalCount } }`, map[string]any{
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(`{ contacts { totalCount } }`)}},
	})); code != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("registering an ad-hoc query as an automatic persisted query: %s", code)
	}
	for name, body := range map[string]string{
		"text":       request(mine, nil),
		"documentId": request("", map[string]any{"documentId": "sha256:" + hash}),
		"doc_id":     request("", map[string]any{"doc_id": hash}),
		"apollo":     request("", map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}),
		"APOLLO":     request("", map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.ToUpper(hash)}}}),
		"console":    request(`query Me { me { role } }`, nil),
	} {
		if code, data := asToken(t, base, sender, body); code != "" || !strings.Contains(data, `"SENDER"`) {
			t.Fatalf("a trusted document sent as %s: %s %s", name, code, data)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/query?documentId="+url.QueryEscape("sha256:"+hash), nil)
	if code, data := decodeAnswer(t, req, sender); code != "" || !strings.Contains(data, `"SENDER"`) {
		t.Fatalf("a trusted document by GET: %s %s", code, data)
	}
	if code, _ := asToken(t, base, sender, request("", map[string]any{"documentId": "sha256:" + sha256Hex("nope")})); code != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("an unknown documentId: %s", code)
	}

	strict, _, _ := startServerProcess(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL, "HERALD_ADMIN_TOKEN=admin-token",
		"HERALD_TRUSTED_DOCUMENTS="+file, "HERALD_TRUSTED_DOCUMENTS_STRICT=true")
	if code, _ := asToken(t, strict, "admin-token", request(`{ contacts { totalCount } }`, nil)); code != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("strict: an admin's ad-hoc query: %s", code)
	}
	if code, data := asToken(t, strict, "admin-token", request(mine, nil)); code != "" || !strings.Contains(data, `"ADMIN"`) {
		t.Fatalf("strict: an admin's trusted document: %s %s", code, data)
	}

	bad := filepath.Join(t.TempDir(), "md5.json")
	_ = os.WriteFile(bad, []byte(`{"0123456789abcdef0123456789abcdef": "query Mine { me { role } }"}`), 0o600)
	out, err := runToExit(t, heraldCommand(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL, "HERALD_ADDR=127.0.0.1:0",
		"HERALD_ADMIN_TOKEN=admin-token", "HERALD_TRUSTED_DOCUMENTS="+bad))
	if err == nil || !strings.Contains(string(out), "HERALD_TRUSTED_DOCUMENTS") || !strings.Contains(string(out), "sha256") {
		t.Fatalf("a list not keyed by sha256: %v\n%s", err, out)
	}
}
