package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/heraldhq/herald/models"
)

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
