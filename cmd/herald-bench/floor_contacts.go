package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/models"
	"golang.org/x/sync/errgroup"
)

// contactList reads one page of contacts in name order, and their total.
func (f *floor) contactList(ctx context.Context, where string, args []any, first int, after string) (*fContactConnection, []*fContact, error) {
	return f.countedContactList(ctx, where, args, first, after, func() (int, error) {
		cq := "SELECT COUNT(*) FROM contacts"
		if where != "" {
			cq += " WHERE " + where
		}
		var n int
		err := f.db.QueryRowContext(ctx, cq, args...).Scan(&n)
		return n, err
	})
}

// countedContactList is contactList with its own count, for a list counted elsewhere than in
// contacts.
func (f *floor) countedContactList(ctx context.Context, where string, args []any, first int, after string, count func() (int, error)) (*fContactConnection, []*fContact, error) {
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
		n, err := count()
		if err != nil {
			return nil, nil, err
		}
		conn.TotalCount = n
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

// groupsWithFirstMembers fills the groups of the given contacts, each with its member count and its
// first n members, with the statements Herald needs too: the page's groups, then at once a count per
// group and the first n members of every group (ROW_NUMBER() OVER (PARTITION BY group), one statement).
func (f *floor) groupsWithFirstMembers(ctx context.Context, cs []*fContact, n int) error {
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
	rows, err := f.db.QueryContext(ctx, `SELECT m.contact_id, g.id, g.name FROM memberships m JOIN contact_groups g ON g.id = m.group_id
		WHERE m.contact_id IN (`+placeholders(len(args))+`) ORDER BY g.name_key`, args...)
	if err != nil {
		return err
	}
	groups := map[int64]*fGroup{}
	var gids []any
	for rows.Next() {
		var (
			cid, gid int64
			name     string
		)
		if err := rows.Scan(&cid, &gid, &name); err != nil {
			rows.Close()
			return err
		}
		g := groups[gid]
		if g == nil {
			g = &fGroup{ID: fid(gid), Name: name, Members: fMembers{Edges: []fMemberEdge{}}, id: gid}
			groups[gid] = g
			gids = append(gids, gid)
		}
		*byID[cid].Groups = append(*byID[cid].Groups, g) // in name order, as the rows come
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(gids) == 0 {
		return nil
	}
	in := placeholders(len(gids))
	var eg errgroup.Group
	eg.Go(func() error {
		rows, err := f.db.QueryContext(ctx, "SELECT group_id, COUNT(*) FROM memberships WHERE group_id IN ("+in+") GROUP BY group_id", gids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var gid int64
			var count int
			if err := rows.Scan(&gid, &count); err != nil {
				return err
			}
			groups[gid].ContactCount = count
		}
		return rows.Err()
	})
	eg.Go(func() error {
		// Each group's first n of the (group_id, contact_key) index, as Herald reads them.
		parts := make([]string, len(gids))
		var args []any
		for i, g := range gids {
			parts[i] = fmt.Sprintf(`SELECT * FROM (SELECT group_id, contact_id, contact_key FROM memberships WHERE group_id = ?
				ORDER BY contact_key LIMIT ?) AS g%d`, i)
			args = append(args, g, n)
		}
		rows, err := f.db.QueryContext(ctx, `SELECT x.group_id, c.id, c.name FROM (`+strings.Join(parts, " UNION ALL ")+
			`) AS x JOIN contacts c ON c.id = x.contact_id ORDER BY x.group_id, x.contact_key`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var gid, cid int64
			var name string
			if err := rows.Scan(&gid, &cid, &name); err != nil {
				return err
			}
			g := groups[gid]
			g.Members.Edges = append(g.Members.Edges, fMemberEdge{Node: &fMember{ID: fid(cid), Name: name}})
		}
		return rows.Err()
	})
	return eg.Wait()
}

// nestedPageMembers is the members page size of qNestedPage.
const nestedPageMembers = 10

func (f *floor) nestedPage(ctx context.Context, first int, after string) (any, error) {
	conn, cs, err := f.contactList(ctx, "", nil, first, after)
	if err != nil {
		return nil, err
	}
	// The webhooks and the groups are independent: read at once, as Herald's prefetch does.
	var eg errgroup.Group
	eg.Go(func() error { return f.webhooks(ctx, cs, true) })
	eg.Go(func() error { return f.groupsWithFirstMembers(ctx, cs, nestedPageMembers) })
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return map[string]any{"contacts": conn}, nil
}

func (f *floor) search(ctx context.Context, q string) (any, error) {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	pattern := "%" + r.Replace(models.NameKey(strings.TrimSpace(q))) + "%"
	conn, cs, err := f.contactList(ctx, "name_key LIKE ? ESCAPE '!'", []any{pattern}, 20, "")
	if trigram, ok := models.SearchTrigram(q); ok {
		// As Herald reads it: the page's rows from the trigram index in name order, the count on the
		// index alone (models/search.go).
		rows := "FROM contact_name_trigrams WHERE trigram = ? AND namespace_id = 1 AND contact_key LIKE ? ESCAPE '!'"
		conn, cs, err = f.countedContactList(ctx, "name_key LIKE ? ESCAPE '!' AND id IN (SELECT contact_id FROM (SELECT contact_id "+rows+
			" ORDER BY contact_key LIMIT 21) AS p)", []any{pattern, []byte(trigram), pattern}, 20, "", func() (int, error) {
			var n int
			err := f.db.QueryRowContext(ctx, "SELECT COUNT(*) "+rows, []byte(trigram), pattern).Scan(&n)
			return n, err
		})
	}
	if err != nil {
		return nil, err
	}
	if err := f.webhooks(ctx, cs, false); err != nil {
		return nil, err
	}
	return map[string]any{"contacts": conn}, nil
}
