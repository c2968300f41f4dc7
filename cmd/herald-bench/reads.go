package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
)

// readSet is the request bodies of each read operation, sent in turn, and the values to explain.
type readSet struct {
	bodies  map[string][][]byte
	explain explainParams
	bounded boundedParams
}

// readRequests prepares what the read operations send: the same bodies go to Herald and the floor.
func (b *bench) readRequests(ctx context.Context, db *sql.DB, ds dataset) (readSet, error) {
	rs := readSet{bodies: map[string][][]byte{}}
	req := func(q, op string, vars map[string]any) []byte {
		return gqlRequest{Query: q, OperationName: op, Variables: vars}.body()
	}
	rs.bodies["page"] = [][]byte{req(qNestedPage, "NestedPage", map[string]any{"n": 100})}

	// The deep page starts after the contact 90% down the name order, the cursor built as Herald builds it.
	var key string
	if err := db.QueryRowContext(ctx, "SELECT name_key FROM contacts ORDER BY name_key LIMIT 1 OFFSET ?", ds.Contacts*9/10-1).Scan(&key); err != nil {
		return rs, fmt.Errorf("find the deep cursor: %w", err)
	}
	rs.bodies["deepPage"] = [][]byte{req(qNestedPage, "NestedPage", map[string]any{"n": 100, "after": cursor(key)})}
	rs.explain.deepKey = key

	terms := searchTerms()
	for _, q := range terms {
		rs.bodies["search"] = append(rs.bodies["search"], req(qSearch, "SearchContacts", map[string]any{"q": q}))
	}
	r := newSeeder(nil, "", "", b.opts.seed+1, nil).rng
	for _, g := range r.Perm(ds.Groups)[:min(ds.Groups, 100)] {
		rs.bodies["groupMembers"] = append(rs.bodies["groupMembers"], req(qGroupMembers, "GroupMembers", map[string]any{"id": fid(int64(g + 1)), "n": 50}))
	}
	for range 200 {
		rs.bodies["memberships"] = append(rs.bodies["memberships"], req(qMemberships, "ContactMemberships", map[string]any{"id": fid(int64(1 + r.IntN(ds.Contacts)))}))
	}

	rs.bodies["alertsPage"] = [][]byte{req(qAlertsPage, "AlertsPage", map[string]any{"n": 50})}
	rs.bodies["alertDeliveries"] = [][]byte{req(qAlertDeliveries, "AlertDeliveries", map[string]any{"id": fid(ds.LargeAlert), "n": 50})}
	rs.bounded.largeAlert = ds.LargeAlert
	alerts, err := queryIDs(ctx, db, "SELECT id FROM alerts ORDER BY created_at DESC, id DESC LIMIT 50")
	if err != nil {
		return rs, err
	}
	for _, id := range alerts {
		rs.bounded.alertIDs = append(rs.bounded.alertIDs, id)
	}

	// The explained statements use the first page's ids and groups.
	rows, err := db.QueryContext(ctx, "SELECT id FROM contacts ORDER BY name_key LIMIT 100")
	if err != nil {
		return rs, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return rs, err
		}
		rs.explain.pageIDs = append(rs.explain.pageIDs, id)
	}
	rows.Close()
	if len(rs.explain.pageIDs) > 0 {
		grows, err := db.QueryContext(ctx, "SELECT DISTINCT group_id FROM memberships WHERE contact_id IN ("+placeholders(len(rs.explain.pageIDs))+")", rs.explain.pageIDs...)
		if err != nil {
			return rs, err
		}
		for grows.Next() {
			var g int64
			if err := grows.Scan(&g); err != nil {
				grows.Close()
				return rs, err
			}
			rs.explain.groupIDs = append(rs.explain.groupIDs, g)
		}
		grows.Close()
	}
	rs.explain.searchPat = "%" + terms[0] + "%"
	rs.explain.groupID = 1
	rs.explain.contactID = 1
	return rs, nil
}

// measureRead checks that the floor answers what Herald answers, then runs each concurrency level
// against Herald and the floor in turn.
func (b *bench) measureRead(ctx context.Context, run *Run, spec opSpec, heraldURL, floorURL string, bodies [][]byte) (*OpResult, error) {
	o := &OpResult{Op: spec.Name, Description: spec.Description, Read: true, Statements: -1, StatementsMin: -1}
	for i, body := range bodies[:min(3, len(bodies))] {
		var req gqlRequest
		_ = json.Unmarshal(body, &req)
		var fromHerald, fromFloor any
		if _, err := b.client.call(ctx, heraldURL, req, &fromHerald); err != nil {
			return nil, fmt.Errorf("herald: %w", err)
		}
		if _, err := b.client.call(ctx, floorURL, req, &fromFloor); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		if d := firstDiff(fromHerald, fromFloor, "data"); d != "" {
			run.FloorMismatches = append(run.FloorMismatches, fmt.Sprintf("%s request %d: %s", spec.Name, i, d))
		}
	}
	body := func(i int64) []byte { return bodies[int(i%int64(len(bodies)))] }
	for _, conc := range b.levels(spec) {
		h := runCell(ctx, b.client, heraldURL, b.cellLoad(conc), body)
		f := runCell(ctx, b.client, floorURL, b.cellLoad(conc), body)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c := Cell{Concurrency: conc, Herald: measureOf(h)}
		fm := measureOf(f)
		c.Floor = &fm
		if fm.Throughput > 0 {
			r := round(c.Herald.Throughput/fm.Throughput, 3)
			c.Ratio = &r
		}
		o.addStatements(h)
		o.Cells = append(o.Cells, c)
		b.logf("%s %-15s c=%-2d herald %7.1f req/s p50 %7.1f p95 %7.1f p99 %7.1f ms (%s SQL) | floor %7.1f req/s p95 %7.1f ms | ratio %.2f%s",
			run.label(), spec.Name, conc, c.Herald.Throughput, c.Herald.P50, c.Herald.P95, c.Herald.P99, stmtText(o),
			fm.Throughput, fm.P95, derefOr(c.Ratio, math.NaN()), errText(h, f))
	}
	return o, nil
}

func derefOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// firstDiff describes the first difference between two decoded JSON values, or returns "".
func firstDiff(a, b any, path string) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object vs %T", path, b)
		}
		keys := make([]string, 0, len(av))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if d := firstDiff(av[k], bv[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: list vs %T", path, b)
		}
		if len(av) != len(bv) {
			return fmt.Sprintf("%s: %d items vs %d", path, len(av), len(bv))
		}
		for i := range av {
			if d := firstDiff(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %v vs %v", path, clipAny(a), clipAny(b))
		}
		return ""
	}
}

func clipAny(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
