package main

import (
	"context"
	"database/sql"
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
	two := append(ids(p.groupIDs), ids(p.groupIDs)...) // the first two groups, or the one twice
	const cols = "c.id, c.name, c.name_key, c.phone, c.dingtalk_user_id, c.wecom_user_id, c.lark_user_id, c.created_at, c.updated_at"
	qs := []explainQuery{
		// models/memberkeys.go reads one range of ix_memberships_group_key per group, in one UNION
		// ALL; explained here for the page's first two groups, each part planned alike.
		{"page: the first 10 (+1) members of each group of the page (two parts shown)", "SELECT " + cols + ", u.group_id FROM (" +
			"SELECT * FROM (SELECT group_id, contact_id, contact_key FROM memberships WHERE group_id = ? ORDER BY contact_key LIMIT 11) AS g0 UNION ALL " +
			"SELECT * FROM (SELECT group_id, contact_id, contact_key FROM memberships WHERE group_id = ? ORDER BY contact_key LIMIT 11) AS g1" +
			") AS u JOIN contacts AS c ON c.id = u.contact_id WHERE c.namespace_id = ? ORDER BY u.group_id, u.contact_key", []any{two[0], two[1], ns}},
		{"page: contactCount of each group of the page", "SELECT group_id, COUNT(*) AS n FROM memberships WHERE group_id IN (" +
			in(len(p.groupIDs)) + ") GROUP BY group_id", ids(p.groupIDs)},
		{"alerts page: first 50 (+1), newest first", "SELECT * FROM alerts WHERE namespace_id = ? ORDER BY created_at DESC, id DESC LIMIT 51", []any{ns}},
		{"alerts page: deliveryCounts of the page", "SELECT alert_id, status, COUNT(*) AS n FROM deliveries WHERE alert_id IN (" +
			in(len(bp.alertIDs)) + ") GROUP BY alert_id, status", ids(bp.alertIDs)},
		{"alert deliveries: first 50 of the alert of 1,000", "SELECT * FROM deliveries WHERE alert_id IN (?) ORDER BY id LIMIT 50", []any{bp.largeAlert}},
		{"alert deliveries: deliveryCounts of the alert of 1,000", "SELECT alert_id, status, COUNT(*) AS n FROM deliveries WHERE alert_id IN (?) GROUP BY alert_id, status",
			[]any{bp.largeAlert}},
	}
	return explainAll(ctx, db, backend, qs)
}
