package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models/modelstest"
)

// postRaw sends body as it is, with no token, to the endpoint followed by query (if given), and
// returns the HTTP status, the decoded response and the raw one.
func (a *api) postRaw(contentType, body string, query ...string) (int, gqlResponse, string) {
	a.t.Helper()
	resp, err := http.Post(a.url+strings.Join(query, ""), contentType, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("HTTP %d, not a GraphQL response: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, string(raw)
}

// A body that is not one GraphQL request is the client's mistake: 400 BAD_REQUEST, nothing run.
func TestBodiesThatAreNotOneOperationAreBadRequests(t *testing.T) {
	a := newAPI(t, modelstest.SQLite(t))
	create := `{"query":"mutation { createContact(input: {name: \"batched\", webhooks: [{url: \"` + dingURL() + `\"}]}) { id } }"}`
	cases := []struct{ name, body, message string }{
		{"batch", "[" + create + "," + create + "]", "one operation per request; batching is not supported"},
		{"batch after whitespace", " \n\t[" + create + "]", "batching is not supported"},
		{"string", `"{ me { role } }"`, "must be a JSON object"},
		{"number", `42`, "must be a JSON object"},
		{"truncated object", `{"query": `, "not valid JSON"},
		{"wrong type", `{"query": 7}`, "wrong types"},
	}
	for _, c := range cases {
		status, res, raw := a.postRaw("application/json", c.body)
		if status != http.StatusBadRequest || len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "BAD_REQUEST" ||
			!strings.Contains(res.Errors[0].Message, c.message) {
			t.Errorf("%s: HTTP %d %s", c.name, status, raw)
		}
		if strings.Contains(raw, "batched") || strings.Contains(raw, "42") {
			t.Errorf("%s: the answer echoes the body: %s", c.name, raw)
		}
	}
	if names := a.contactNames(10, nil); len(names) != 0 {
		t.Fatalf("a refused batch created %v", names)
	}
	// One object still works, with the same header, after all of that.
	if status, res, raw := a.postRaw("application/json", create); status != http.StatusOK || len(res.Errors) != 0 {
		t.Fatalf("one operation: HTTP %d %s", status, raw)
	}
}

// Suggestions name schema fields, arguments, types and enum values the client did not know:
// with introspection off they are dropped, with it on they help.
func TestSuggestionsOnlyWhileIntrospectionIsOn(t *testing.T) {
	// The first four are what gqlparser suggests for; the last two it does not, and must not start to.
	misspelt := []string{
		`{ contactz { totalCount } }`,
		`{ contacts(frist: 1) { totalCount } }`,
		`{ contacts { totalCont } }`,
		`{ alerts(status: PENDIN) { totalCount } }`,
		`query($f: ContactFiltr) { contacts(filter: $f) { totalCount } }`,
		`{ contacts(filter: {nam: "x"}) { totalCount } }`,
	}
	const suggested = 4
	db := modelstest.SQLite(t)
	on := newAPIWith(t, db, "", true, graph.Options{Introspection: true})
	off := newAPIWith(t, db, "", true, graph.Options{Introspection: false})
	for i, q := range misspelt {
		if onErrs := on.do(q, nil).Errors; len(onErrs) == 0 || i < suggested && !strings.Contains(onErrs[0].Message, "Did you mean") {
			t.Errorf("introspection on, %s: no suggestion in %+v", q, onErrs)
		}
		offErrs := off.do(q, nil).Errors
		if len(offErrs) == 0 {
			t.Errorf("introspection off, %s: accepted", q)
		}
		for _, e := range offErrs {
			if e.Extensions.Code != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(e.Message, "mean") || e.Message == "" {
				t.Errorf("introspection off, %s: %+v", q, e)
			}
		}
	}
}

// send sends req as the admin and returns the HTTP status and the body.
func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	req.Header.Set("Authorization", "Bearer admin-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// Probes beyond the first audit's list, each with the answer it gets.
func TestProbesAnAttackerWouldTryNext(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPIWith(t, db, "admin-token", false, graph.Options{})

	// A chunked body declares no length; past 1 MiB it gets the same 413 as a declared one.
	big := `{"query":"{ me { role } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
	req, _ := http.NewRequest(http.MethodPost, a.url, io.MultiReader(strings.NewReader(big))) // no length: sent chunked
	req.Header.Set("Content-Type", "application/json")
	if status, raw := send(t, req); status != http.StatusRequestEntityTooLarge || !strings.Contains(raw, "BAD_USER_INPUT") || req.ContentLength != 0 {
		t.Fatalf("chunked oversize body: HTTP %d (sent length %d) %s", status, req.ContentLength, raw)
	}

	// A token in the URL would land in proxy logs and browser history: it is never read from there.
	for _, q := range []string{"access_token", "token", "authorization"} {
		status, raw, _ := a.postRaw("application/json", `{"query":"{ me { role } }"}`, "?"+q+"=admin-token")
		if status != http.StatusOK || len(raw.Errors) != 1 || raw.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
			t.Fatalf("token in ?%s: HTTP %d %+v", q, status, raw)
		}
	}

	// A query string carrying a mutation, and a GET batch, are refused without running anything.
	for _, target := range []string{
		`?query=mutation{deleteGroup(id:"1")}`,
		`?query=[{"query":"{me{role}}"}]`,
	} {
		req, _ := http.NewRequest(http.MethodGet, a.url+target, nil)
		if status, raw := send(t, req); status < 400 || strings.Contains(raw, `"data":{`) {
			t.Fatalf("GET %s: HTTP %d %s", target, status, raw)
		}
	}
}
