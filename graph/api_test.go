package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// api is a client of the real GraphQL handler served over a real loopback HTTP server.
type api struct {
	t   *testing.T
	url string
	// token is sent as the bearer token when set.
	token string
	// namespace is sent as Herald-Namespace when set.
	namespace string
	db        modelstest.DB
	store     *models.Store
	// lastStatements counts the SQL statements of the most recent request. It is set before the
	// request is served: every statement runs before the response is written.
	lastStatements *atomic.Pointer[atomic.Int64]
}

type gqlError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func newAPI(t *testing.T, db modelstest.DB) *api {
	// Open mode: every request is an admin's, so these tests exercise the API itself; the role
	// matrix is tested separately.
	return newAPIWith(t, db, "", true, graph.Options{Introspection: true})
}

// newAPIWith serves the API with the given options behind an authenticator with adminToken (may
// be empty) and open mode as open. The authenticator shares the resolvers' store, as in Herald.
func newAPIWith(t *testing.T, db modelstest.DB, adminToken string, open bool, opts graph.Options) *api {
	t.Helper()
	a := &api{t: t, db: db, store: modelstest.Store(t, db), lastStatements: new(atomic.Pointer[atomic.Int64])}
	if err := delivery.Migrate(db.Gorm); err != nil {
		t.Fatal(err)
	}
	notifier, err := notify.New(notify.Config{Platforms: platforms.Registry})
	if err != nil {
		t.Fatal(err)
	}
	resolver := &graph.Resolver{Store: a.store, Outbox: delivery.NewOutbox(a.store, notifier), Notifier: notifier, Dispatcher: noDispatcher{}}
	h := auth.New(a.store, adminToken, open).Middleware(graph.NewHandler(resolver, opts))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, n := models.WithStatementCounter(r.Context())
		a.lastStatements.Store(n)
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

// in returns a client of the same server that runs in the namespace name.
func (a *api) in(name string) *api {
	b := *a
	b.namespace = name
	return &b
}

// as returns a client of the same server that sends token.
func (a *api) as(token string) *api {
	b := *a
	b.token = token
	return &b
}

func (a *api) do(query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.namespace != "" {
		req.Header.Set("Herald-Namespace", a.namespace)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		a.t.Fatalf("decode response (HTTP %d): %v", resp.StatusCode, err)
	}
	return out
}

// must runs an operation that has to succeed and decodes its data into out.
func (a *api) must(query string, vars map[string]any, out any) {
	a.t.Helper()
	res := a.do(query, vars)
	if len(res.Errors) > 0 {
		a.t.Fatalf("unexpected errors: %+v\nquery: %s", res.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			a.t.Fatalf("decode data: %v: %s", err, res.Data)
		}
	}
}

// fail runs an operation that has to fail with code (and field, when not empty).
func (a *api) fail(query string, vars map[string]any, code, field string) gqlError {
	a.t.Helper()
	res := a.do(query, vars)
	if len(res.Errors) != 1 {
		a.t.Fatalf("want exactly one %s error, got %+v (data %s)", code, res.Errors, res.Data)
	}
	e := res.Errors[0]
	if e.Extensions.Code != code || e.Extensions.Field != field {
		a.t.Fatalf("want code %s field %q, got code %s field %q: %s", code, field, e.Extensions.Code, e.Extensions.Field, e.Message)
	}
	return e
}

const contactFields = `id name phone createdAt updatedAt webhooks { id url platform hasSecret keyword } groups { id name }`

type webhookJSON struct {
	ID        string  `json:"id"`
	URL       string  `json:"url"`
	Platform  string  `json:"platform"`
	HasSecret bool    `json:"hasSecret"`
	Keyword   *string `json:"keyword"`
}

type contactJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Phone     *string       `json:"phone"`
	Webhooks  []webhookJSON `json:"webhooks"`
	Groups    []groupJSON   `json:"groups"`
	CreatedAt string        `json:"createdAt"`
	UpdatedAt string        `json:"updatedAt"`
}

type groupJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	ContactCount int           `json:"contactCount"`
	Contacts     []contactJSON `json:"contacts"`
}

var hookSeq atomic.Int64

// dingURL returns a distinct, recognisable DingTalk robot URL.
func dingURL() string {
	return fmt.Sprintf("https://oapi.dingtalk.com/robot/send?access_token=tok%06d", hookSeq.Add(1))
}

func (a *api) createContact(name string, groupIDs ...string) contactJSON {
	a.t.Helper()
	var out struct{ CreateContact contactJSON }
	a.must(`mutation($in: CreateContactInput!) { createContact(input: $in) { `+contactFields+` } }`,
		map[string]any{"in": map[string]any{"name": name, "webhooks": []any{map[string]any{"url": dingURL()}}, "groupIds": nonNilIDs(groupIDs)}}, &out)
	return out.CreateContact
}

func (a *api) createGroup(name string, contactIDs ...string) groupJSON {
	a.t.Helper()
	var out struct{ CreateContactGroup groupJSON }
	a.must(`mutation($in: CreateContactGroupInput!) { createContactGroup(input: $in) { id name description contactCount } }`,
		map[string]any{"in": map[string]any{"name": name, "contactIds": nonNilIDs(contactIDs)}}, &out)
	return out.CreateContactGroup
}

func nonNilIDs(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func (a *api) contact(id string) *contactJSON {
	a.t.Helper()
	var out struct{ Contact *contactJSON }
	a.must(`query($id: ID!) { contact(id: $id) { `+contactFields+` } }`, map[string]any{"id": id}, &out)
	return out.Contact
}

func (a *api) group(id string) *groupJSON {
	a.t.Helper()
	var out struct{ Group *groupJSON }
	a.must(`query($id: ID!) { group(id: $id) { id name description contactCount contacts { id name } } }`, map[string]any{"id": id}, &out)
	return out.Group
}

// contactNames lists every contact name through the paginated API, pageSize at a time.
func (a *api) contactNames(pageSize int, filter map[string]any) []string {
	a.t.Helper()
	var names []string
	var after *string
	for {
		var out struct {
			Contacts struct {
				Edges []struct {
					Node struct{ Name string }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		a.must(`query($f: ContactFilter, $first: Int, $after: String) { contacts(filter: $f, first: $first, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }`,
			map[string]any{"f": filter, "first": pageSize, "after": after}, &out)
		for _, e := range out.Contacts.Edges {
			names = append(names, e.Node.Name)
		}
		if !out.Contacts.PageInfo.HasNextPage {
			return names
		}
		after = out.Contacts.PageInfo.EndCursor
	}
}

func joined(s []string) string { return strings.Join(s, ",") }

// noDispatcher stands in for the dispatcher: these tests read what was accepted, nothing is sent.
type noDispatcher struct{}

func (noDispatcher) Wake() {}
