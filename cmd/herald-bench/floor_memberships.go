package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
	"golang.org/x/sync/errgroup"
)

type fPlainContact struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Phone *string `json:"phone"`
}

type fMemberPageEdge struct {
	Cursor string         `json:"cursor"`
	Node   *fPlainContact `json:"node"`
}

type fGroupPage struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	ContactCount int    `json:"contactCount"`
	Members      struct {
		TotalCount int               `json:"totalCount"`
		Edges      []fMemberPageEdge `json:"edges"`
		PageInfo   fPageInfo         `json:"pageInfo"`
	} `json:"members"`
}

// groupMembers reads a group with its member count (one statement) and its first n members (one
// more, to know whether a page follows).
func (f *floor) groupMembers(ctx context.Context, id string, n int) (any, error) {
	gid, ok := models.ParseID(id)
	if !ok {
		return map[string]any{"group": nil}, nil
	}
	g := &fGroupPage{ID: fid(int64(gid))}
	g.Members.Edges = make([]fMemberPageEdge, 0, n)
	found := true
	// The group with its count, and its first page: independent, so read at once.
	var eg errgroup.Group
	eg.Go(func() error {
		err := f.db.QueryRowContext(ctx, `SELECT g.name, g.description, (SELECT COUNT(*) FROM memberships m WHERE m.group_id = g.id)
			FROM contact_groups g WHERE g.id = ?`, gid).Scan(&g.Name, &g.Description, &g.ContactCount)
		if errors.Is(err, sql.ErrNoRows) {
			found = false
			return nil
		}
		g.Members.TotalCount = g.ContactCount
		return err
	})
	eg.Go(func() error {
		rows, err := f.db.QueryContext(ctx, `SELECT c.id, c.name, c.name_key, c.phone FROM memberships m JOIN contacts c ON c.id = m.contact_id
			WHERE m.group_id = ? ORDER BY c.name_key LIMIT ?`, gid, n+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				cid       int64
				name, key string
				phone     sql.NullString
			)
			if err := rows.Scan(&cid, &name, &key, &phone); err != nil {
				return err
			}
			if len(g.Members.Edges) == n {
				g.Members.PageInfo.HasNextPage = true
				break
			}
			c := &fPlainContact{ID: fid(cid), Name: name}
			if phone.Valid {
				c.Phone = &phone.String
			}
			g.Members.Edges = append(g.Members.Edges, fMemberPageEdge{Cursor: cursor(key), Node: c})
		}
		return rows.Err()
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if !found {
		return map[string]any{"group": nil}, nil
	}
	if k := len(g.Members.Edges); k > 0 {
		g.Members.PageInfo.EndCursor = &g.Members.Edges[k-1].Cursor
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
