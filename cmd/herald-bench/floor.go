package main

import (
	"context"
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
		data, err = f.groupMembers(ctx, strVar(req.Variables, "id"))
	case "ContactMemberships":
		data, err = f.memberships(ctx, strVar(req.Variables, "id"))
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
	ID        string  `json:"id"`
	URL       string  `json:"url"`
	Platform  string  `json:"platform"`
	HasSecret *bool   `json:"hasSecret,omitempty"`
	contactID int64   `json:"-"`
	secret    *string `json:"-"`
}

type fMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type fGroup struct {
	ID           string     `json:"id"`
	Name         string     `json:"name"`
	ContactCount int        `json:"contactCount"`
	Contacts     []*fMember `json:"contacts"`
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

// contactList reads one page of contacts in name order, and their total.
func (f *floor) contactList(ctx context.Context, where string, args []any, first int, after string) (*fContactConnection, []*fContact, error) {
	conds := []string{}
	if where != "" {
		conds = append(conds, where)
	}
	pageArgs := append([]any{}, args...)
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil {
			return nil, nil, err
		}
		var c struct {
			K string `json:"k"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, nil, err
		}
		conds = append(conds, "name_key > ?")
		pageArgs = append(pageArgs, c.K)
	}
	q := "SELECT id, name, name_key, phone FROM contacts"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY name_key LIMIT ?"
	rows, err := f.db.QueryContext(ctx, q, append(pageArgs, first+1)...)
	if err != nil {
		return nil, nil, err
	}
	var cs []*fContact
	for rows.Next() {
		c := &fContact{Webhooks: []*fWebhook{}}
		var phone sql.NullString
		if err := rows.Scan(&c.id, &c.Name, &c.key, &phone); err != nil {
			rows.Close()
			return nil, nil, err
		}
		c.ID = fid(c.id)
		if phone.Valid {
			c.Phone = &phone.String
		}
		cs = append(cs, c)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	conn := &fContactConnection{Edges: make([]fContactEdge, 0, first)}
	conn.PageInfo.HasNextPage = len(cs) > first
	if len(cs) > first {
		cs = cs[:first]
	}
	for _, c := range cs {
		conn.Edges = append(conn.Edges, fContactEdge{Cursor: cursor(c.key), Node: c})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	if after == "" && !conn.PageInfo.HasNextPage {
		conn.TotalCount = len(cs) // the whole list is on this page: no need to count it
	} else {
		cq := "SELECT COUNT(*) FROM contacts"
		if where != "" {
			cq += " WHERE " + where
		}
		if err := f.db.QueryRowContext(ctx, cq, args...).Scan(&conn.TotalCount); err != nil {
			return nil, nil, err
		}
	}
	return conn, cs, nil
}

// webhooks fills the webhooks of the given contacts, in their saved order.
func (f *floor) webhooks(ctx context.Context, cs []*fContact, withSecret bool) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*fContact, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		byID[c.id] = c
		args[i] = c.id
	}
	rows, err := f.db.QueryContext(ctx, "SELECT id, contact_id, url, platform, secret FROM webhooks WHERE contact_id IN ("+
		placeholders(len(args))+") ORDER BY contact_id, position, id", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id     int64
			w      fWebhook
			secret sql.NullString
		)
		if err := rows.Scan(&id, &w.contactID, &w.URL, &w.Platform, &secret); err != nil {
			return err
		}
		w.ID = fid(id)
		if withSecret {
			has := secret.Valid && secret.String != ""
			w.HasSecret = &has
		}
		c := byID[w.contactID]
		c.Webhooks = append(c.Webhooks, &w)
	}
	return rows.Err()
}

// groupsWithMembers fills the groups of the given contacts, each with all its members, in one
// statement: every group of the page with every member, from which each page contact picks its own.
func (f *floor) groupsWithMembers(ctx context.Context, cs []*fContact) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*fContact, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		c.Groups = &[]*fGroup{}
		byID[c.id] = c
		args[i] = c.id
	}
	rows, err := f.db.QueryContext(ctx, `SELECT g.id, g.name, c.id, c.name FROM contact_groups g
		JOIN memberships m ON m.group_id = g.id JOIN contacts c ON c.id = m.contact_id
		WHERE g.id IN (SELECT group_id FROM memberships WHERE contact_id IN (`+placeholders(len(args))+`))
		ORDER BY g.name_key, c.name_key`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var g *fGroup
	var gid int64 = -1
	for rows.Next() {
		var (
			id, cid     int64
			gname, name string
		)
		if err := rows.Scan(&id, &gname, &cid, &name); err != nil {
			return err
		}
		if id != gid {
			gid, g = id, &fGroup{ID: fid(id), Name: gname, Contacts: []*fMember{}}
		}
		g.Contacts = append(g.Contacts, &fMember{ID: fid(cid), Name: name})
		g.ContactCount++
		if c := byID[cid]; c != nil {
			*c.Groups = append(*c.Groups, g) // rows come in group order, so each contact's groups do too
		}
	}
	return rows.Err()
}

func (f *floor) nestedPage(ctx context.Context, first int, after string) (any, error) {
	conn, cs, err := f.contactList(ctx, "", nil, first, after)
	if err != nil {
		return nil, err
	}
	if err := f.webhooks(ctx, cs, true); err != nil {
		return nil, err
	}
	if err := f.groupsWithMembers(ctx, cs); err != nil {
		return nil, err
	}
	return map[string]any{"contacts": conn}, nil
}

func (f *floor) search(ctx context.Context, q string) (any, error) {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	pattern := "%" + r.Replace(models.NameKey(strings.TrimSpace(q))) + "%"
	conn, cs, err := f.contactList(ctx, "name_key LIKE ? ESCAPE '!'", []any{pattern}, 20, "")
	if err != nil {
		return nil, err
	}
	if err := f.webhooks(ctx, cs, false); err != nil {
		return nil, err
	}
	return map[string]any{"contacts": conn}, nil
}

type fPlainContact struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Phone *string `json:"phone"`
}

func (f *floor) groupMembers(ctx context.Context, id string) (any, error) {
	gid, ok := models.ParseID(id)
	if !ok {
		return map[string]any{"group": nil}, nil
	}
	rows, err := f.db.QueryContext(ctx, `SELECT g.id, g.name, g.description, c.id, c.name, c.phone FROM contact_groups g
		LEFT JOIN memberships m ON m.group_id = g.id LEFT JOIN contacts c ON c.id = m.contact_id
		WHERE g.id = ? ORDER BY c.name_key`, gid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var g *struct {
		ID           string           `json:"id"`
		Name         string           `json:"name"`
		Description  string           `json:"description"`
		ContactCount int              `json:"contactCount"`
		Contacts     []*fPlainContact `json:"contacts"`
	}
	for rows.Next() {
		var (
			id          int64
			name, desc  string
			cid         sql.NullInt64
			cname, cphn sql.NullString
		)
		if err := rows.Scan(&id, &name, &desc, &cid, &cname, &cphn); err != nil {
			return nil, err
		}
		if g == nil {
			g = &struct {
				ID           string           `json:"id"`
				Name         string           `json:"name"`
				Description  string           `json:"description"`
				ContactCount int              `json:"contactCount"`
				Contacts     []*fPlainContact `json:"contacts"`
			}{ID: fid(id), Name: name, Description: desc, Contacts: []*fPlainContact{}}
		}
		if cid.Valid {
			c := &fPlainContact{ID: fid(cid.Int64), Name: cname.String}
			if cphn.Valid {
				c.Phone = &cphn.String
			}
			g.Contacts = append(g.Contacts, c)
			g.ContactCount++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if g == nil {
		return map[string]any{"group": nil}, nil
	}
	return map[string]any{"group": g}, nil
}

type fMembershipEdge struct {
	Cursor string `json:"cursor"`
	Node   struct {
		CreatedAt string  `json:"createdAt"`
		Contact   fMember `json:"contact"`
		Group     fMember `json:"group"`
	} `json:"node"`
}

func (f *floor) memberships(ctx context.Context, id string) (any, error) {
	const first = 100
	cid, ok := models.ParseID(id)
	if !ok {
		return nil, fmt.Errorf("bad contact id %q", id)
	}
	rows, err := f.db.QueryContext(ctx, `SELECT m.contact_id, m.group_id, m.created_at, c.name_key, c.name, g.name_key, g.name
		FROM memberships m JOIN contacts c ON c.id = m.contact_id JOIN contact_groups g ON g.id = m.group_id
		WHERE m.contact_id = ? ORDER BY c.name_key, g.name_key LIMIT ?`, cid, first+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	conn := struct {
		TotalCount int               `json:"totalCount"`
		Edges      []fMembershipEdge `json:"edges"`
		PageInfo   fPageInfo         `json:"pageInfo"`
	}{Edges: []fMembershipEdge{}}
	for rows.Next() {
		var (
			e                  fMembershipEdge
			c, g               int64
			at                 time.Time
			ckey, gkey, cn, gn string
		)
		if err := rows.Scan(&c, &g, &at, &ckey, &cn, &gkey, &gn); err != nil {
			return nil, err
		}
		if len(conn.Edges) == first {
			conn.PageInfo.HasNextPage = true
			break
		}
		b, _ := json.Marshal(struct {
			CK string `json:"ck"`
			GK string `json:"gk"`
		}{ckey, gkey})
		e.Cursor = base64.RawURLEncoding.EncodeToString(b)
		e.Node.CreatedAt = at.Format(time.RFC3339Nano)
		e.Node.Contact = fMember{ID: fid(c), Name: cn}
		e.Node.Group = fMember{ID: fid(g), Name: gn}
		conn.Edges = append(conn.Edges, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	if !conn.PageInfo.HasNextPage {
		conn.TotalCount = len(conn.Edges)
	} else if err := f.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM memberships WHERE contact_id = ?", cid).Scan(&conn.TotalCount); err != nil {
		return nil, err
	}
	return map[string]any{"memberships": conn}, nil
}
