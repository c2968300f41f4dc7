package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldhq/herald/models"
)

// explainParams are the values the explained statements run with: the same the benchmark sends.
type explainParams struct {
	pageIDs   []any // the first page's contact ids
	groupIDs  []any // the groups of the first page
	deepKey   string
	searchPat string
	groupID   int64
	contactID int64
}

// explainQueries returns the plans of the statements behind the main reads. The SQL mirrors what
// models/ builds through GORM (same predicates, order and limits; GORM adds identifier quoting and
// the namespace scope adds "namespace_id = ?", which leads the name index).
func explainQueries(ctx context.Context, db *sql.DB, backend models.Backend, p explainParams) []Explain {
	in := func(n int) string { return placeholders(max(n, 1)) }
	ns := models.DefaultNamespaceID // the benchmark's data is in the default namespace, as an upgrade's is
	qs := []explainQuery{
		{"page: first 100 (+1) contacts by name", "SELECT * FROM contacts WHERE namespace_id = ? ORDER BY name_key LIMIT 101", []any{ns}},
		{"page: totalCount", "SELECT count(*) FROM contacts WHERE namespace_id = ?", []any{ns}},
		{"deep page: 100 contacts after a cursor 90% down", "SELECT * FROM contacts WHERE name_key > ? AND namespace_id = ? ORDER BY name_key LIMIT 101",
			[]any{p.deepKey, ns}},
		{"deep page backward: 100 contacts before a cursor 90% down", "SELECT * FROM contacts WHERE name_key < ? AND namespace_id = ? ORDER BY name_key DESC LIMIT 101",
			[]any{p.deepKey, ns}},
		{"page: webhooks of the page", "SELECT * FROM webhooks WHERE contact_id IN (" + in(len(p.pageIDs)) + ") ORDER BY contact_id, position, id", p.pageIDs},
		{"page: groups of the page's contacts", "SELECT g.*, m.contact_id FROM contact_groups AS g JOIN memberships AS m ON m.group_id = g.id WHERE m.contact_id IN (" +
			in(len(p.pageIDs)) + ") AND g.namespace_id = ? ORDER BY g.name_key", append(slices.Clone(p.pageIDs), ns)},
		{"page: members of those groups", "SELECT c.*, m.group_id FROM contacts AS c JOIN memberships AS m ON m.contact_id = c.id WHERE m.group_id IN (" +
			in(len(p.groupIDs)) + ") AND c.namespace_id = ? ORDER BY c.name_key", append(slices.Clone(p.groupIDs), ns)},
		// models/search.go reads the rows of one trigram of the term (the first, here) from the
		// index, in name order, and only the page's from contacts; a term of 1-2 characters has
		// no trigram and keeps the LIKE on contacts.
		{"name search: first 20 (+1)", "SELECT * FROM contacts WHERE name_key LIKE ? ESCAPE '!' AND id IN (SELECT contact_id FROM " +
			"(SELECT contact_id FROM contact_name_trigrams WHERE trigram = ? AND namespace_id = ? AND contact_key LIKE ? ESCAPE '!' ORDER BY contact_key LIMIT 21) AS page) " +
			"AND namespace_id = ? ORDER BY name_key LIMIT 21", []any{p.searchPat, []byte(searchTrigram(p.searchPat)), ns, p.searchPat, ns}},
		{"name search: totalCount", "SELECT count(*) FROM contact_name_trigrams WHERE trigram = ? AND namespace_id = ? AND contact_key LIKE ? ESCAPE '!'",
			[]any{[]byte(searchTrigram(p.searchPat)), ns, p.searchPat}},
		{"name search of 1-2 characters: first 20 (+1)", "SELECT * FROM contacts WHERE name_key LIKE ? ESCAPE '!' AND namespace_id = ? ORDER BY name_key LIMIT 21", []any{p.searchPat, ns}},
		{"name search of 1-2 characters: totalCount", "SELECT count(*) FROM contacts WHERE name_key LIKE ? ESCAPE '!' AND namespace_id = ?", []any{p.searchPat, ns}},
		{"group members", "SELECT c.*, m.group_id FROM contacts AS c JOIN memberships AS m ON m.contact_id = c.id WHERE m.group_id IN (?) AND c.namespace_id = ? ORDER BY c.name_key",
			[]any{p.groupID, ns}},
		{"contact memberships", "SELECT m.contact_id, m.group_id, m.created_at, c.name_key AS contact_key, g.name_key AS group_key FROM memberships AS m " +
			"JOIN contacts AS c ON c.id = m.contact_id JOIN contact_groups AS g ON g.id = m.group_id WHERE m.contact_id = ? AND c.namespace_id = ? AND g.namespace_id = ? " +
			"ORDER BY c.name_key, g.name_key LIMIT 101", []any{p.contactID, ns, ns}},
	}
	return explainAll(ctx, db, backend, qs)
}

// explainQuery is one statement to explain, with the arguments it runs with.
type explainQuery struct {
	name, sql string
	args      []any
}

// explainAll returns the plans of qs, in order.
func explainAll(ctx context.Context, db *sql.DB, backend models.Backend, qs []explainQuery) []Explain {
	prefix := "EXPLAIN "
	if backend == models.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	out := make([]Explain, 0, len(qs))
	for _, q := range qs {
		e := Explain{Name: q.name, SQL: q.sql}
		if len(q.args) > 0 {
			e.SQL += fmt.Sprintf("  -- %d argument(s)", len(q.args))
		}
		args := q.args
		if strings.Count(q.sql, "?") != len(args) { // an empty IN list
			args = []any{int64(0)}
		}
		e.Columns, e.Rows, e.Error = explainOne(ctx, db, prefix+q.sql, args)
		out = append(out, e)
	}
	return out
}

func explainOne(ctx context.Context, db *sql.DB, query string, args []any) ([]string, [][]string, string) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err.Error()
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err.Error()
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return cols, out, err.Error()
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			} else {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return cols, out, err.Error()
	}
	return cols, out, ""
}

// searchTrigram is the first trigram of the term in a LIKE pattern "%term%".
func searchTrigram(pattern string) string {
	r := []rune(strings.Trim(pattern, "%"))
	return string(r[:min(3, len(r))])
}
