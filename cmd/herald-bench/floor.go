package main

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// The floor answers the benchmark's read queries with hand-written database/sql code: the fewest
// statements that fetch the same rows, encoded into the same JSON shape and served over HTTP from
// this process, so that Herald's figures can be read as a ratio to what the database, HTTP and JSON
// cost anyway. It routes on the request's operationName and ignores the query text.

// floor serves the read operations straight from SQL.
type floor struct {
	db *sql.DB
}

// startFloor serves the floor on a random loopback port and returns its URL.
func startFloor(db *sql.DB) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: &floor{db: db}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String() + "/query", nil
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req gqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	var (
		data any
		err  error
	)
	switch req.OperationName {
	case "NestedPage":
		data, err = f.nestedPage(ctx, intVar(req.Variables, "n"), strVar(req.Variables, "after"))
	case "SearchContacts":
		data, err = f.search(ctx, strVar(req.Variables, "q"))
	case "GroupMembers":
		data, err = f.groupMembers(ctx, strVar(req.Variables, "id"), intVar(req.Variables, "n"))
	case "ContactMemberships":
		data, err = f.memberships(ctx, strVar(req.Variables, "id"))
	case "AlertsPage":
		data, err = f.alertsPage(ctx, intVar(req.Variables, "n"))
	case "AlertDeliveries":
		data, err = f.alertDeliveries(ctx, strVar(req.Variables, "id"), intVar(req.Variables, "n"))
	default:
		err = fmt.Errorf("the floor has no operation %q", req.OperationName)
	}
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]string{"message": err.Error()}}, "data": nil})
		return
	}
	b, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func intVar(v map[string]any, k string) int {
	if f, ok := v[k].(float64); ok {
		return int(f)
	}
	return 0
}

func strVar(v map[string]any, k string) string {
	s, _ := v[k].(string)
	return s
}

// The JSON shapes, field for field what the benchmark's GraphQL queries select.

type fPageInfo struct {
	HasNextPage bool    `json:"hasNextPage"`
	EndCursor   *string `json:"endCursor"`
}

type fWebhook struct {
	ID        string `json:"id"`
	URL       string `json:"url"`
	Platform  string `json:"platform"`
	HasSecret *bool  `json:"hasSecret,omitempty"`
	contactID int64  `json:"-"`
}

type fMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type fMemberEdge struct {
	Node *fMember `json:"node"`
}

type fMembers struct {
	Edges []fMemberEdge `json:"edges"`
}

type fGroup struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	ContactCount int      `json:"contactCount"`
	Members      fMembers `json:"members"`
	id           int64
}

type fContact struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Phone    *string     `json:"phone"`
	Webhooks []*fWebhook `json:"webhooks"`
	Groups   *[]*fGroup  `json:"groups,omitempty"` // nil when the query does not select groups
	key      string
	id       int64
}

type fContactEdge struct {
	Cursor string    `json:"cursor"`
	Node   *fContact `json:"node"`
}

type fContactConnection struct {
	TotalCount int            `json:"totalCount"`
	Edges      []fContactEdge `json:"edges"`
	PageInfo   fPageInfo      `json:"pageInfo"`
}

func fid(id int64) string { return models.FormatID(uint(id)) }

// cursor encodes a name-key position exactly as Herald does (the name key is unique).
func cursor(key string) string {
	b, _ := json.Marshal(struct {
		K string `json:"k"`
	}{key})
	return base64.RawURLEncoding.EncodeToString(b)
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }
