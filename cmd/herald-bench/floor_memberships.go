package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
)

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
