package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/heraldhq/herald/models"
)

// boundedParams are the values the statements of the bounded reads are explained with.
type boundedParams struct {
	largeAlert int64 // the alert of 1,000 deliveries
	alertIDs   []any // the first page of alerts
}

// explainBoundedReads returns the plans of the statements behind the bounded nested lists: a page's
// groups' first members and counts (models FirstMembersByGroup, ContactCountByGroup), the alert
// history's first page with its delivery counts and one large alert's first deliveries (delivery
// Alerts, DeliveryCountsByAlert, DeliveryPagesByAlert). The SQL mirrors what GORM builds.
func explainBoundedReads(ctx context.Context, db *sql.DB, backend models.Backend, p explainParams, bp boundedParams) []Explain {
	in := func(n int) string { return placeholders(max(n, 1)) }
	// ids are the arguments of an IN list: 0, which names nothing, when there are none.
	ids := func(v []any) []any {
		if len(v) == 0 {
			return []any{int64(0)}
		}
		return slices.Clone(v)
	}
	ns := models.DefaultNamespaceID
	const cols = "c.id, c.name, c.name_key, c.phone, c.dingtalk_user_id, c.wecom_user_id, c.lark_user_id, c.created_at, c.updated_at"
	qs := []struct {
		name, sql string
		args      []any
	}{
		{"page: the first 10 (+1) members of each group of the page", "SELECT " + cols + ", c.parent_id FROM (SELECT " + cols +
			", m.group_id AS parent_id, ROW_NUMBER() OVER (PARTITION BY m.group_id ORDER BY c.name_key) AS rn FROM contacts AS c " +
			"JOIN memberships AS m ON m.contact_id = c.id WHERE m.group_id IN (" + in(len(p.groupIDs)) + ") AND c.namespace_id = ?) AS c " +
			"WHERE c.rn <= 11 ORDER BY c.parent_id, c.name_key", append(ids(p.groupIDs), ns)},
		{"page: contactCount of each group of the page", "SELECT group_id, COUNT(*) AS n FROM memberships WHERE group_id IN (" +
			in(len(p.groupIDs)) + ") GROUP BY group_id", ids(p.groupIDs)},
		{"alerts page: first 50 (+1), newest first", "SELECT * FROM alerts WHERE namespace_id = ? ORDER BY created_at DESC, id DESC LIMIT 51", []any{ns}},
		{"alerts page: deliveryCounts of the page", "SELECT alert_id, status, COUNT(*) AS n FROM deliveries WHERE alert_id IN (" +
			in(len(bp.alertIDs)) + ") GROUP BY alert_id, status", ids(bp.alertIDs)},
		{"alert deliveries: first 50 of the alert of 1,000", "SELECT * FROM deliveries WHERE alert_id IN (?) ORDER BY id LIMIT 50", []any{bp.largeAlert}},
		{"alert deliveries: deliveryCounts of the alert of 1,000", "SELECT alert_id, status, COUNT(*) AS n FROM deliveries WHERE alert_id IN (?) GROUP BY alert_id, status",
			[]any{bp.largeAlert}},
	}
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
		e.Columns, e.Rows, e.Error = explainOne(ctx, db, prefix+q.sql, q.args)
		out = append(out, e)
	}
	return out
}
