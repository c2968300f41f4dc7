package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// writes measures the mutations on one run. They change the data, so they run after every read.
type writes struct {
	b      *bench
	run    *Run
	db     *sql.DB
	seeder *seeder
	url    string
}

func (w *writes) measure(ctx context.Context, spec opSpec) (*OpResult, error) {
	o := &OpResult{Op: spec.Name, Description: spec.Description, Statements: -1, StatementsMin: -1}
	var err error
	switch spec.Name {
	case "createContact":
		err = w.createContact(ctx, o)
	case "updateContactGroup":
		err = w.updateContactGroup(ctx, o)
	case "batchDelete":
		err = w.batchDelete(ctx, o)
	case "sendAlert":
		err = w.sendAlert(ctx, o)
	case "inbound":
		err = w.inbound(ctx, o)
	case "sendOne":
		err = w.sendOne(ctx, o)
	default:
		err = fmt.Errorf("no such write operation %q", spec.Name)
	}
	return o, err
}

func (w *writes) record(o *OpResult, conc int, r cellRun) error {
	c := Cell{Concurrency: conc, Herald: measureOf(r)}
	o.addStatements(r)
	o.Cells = append(o.Cells, c)
	w.b.logf("%s %-18s c=%-2d herald %7.1f req/s p50 %7.1f p95 %7.1f p99 %7.1f max %7.1f ms (%s SQL, n=%d)%s",
		w.run.label(), o.Op, conc, c.Herald.Throughput, c.Herald.P50, c.Herald.P95, c.Herald.P99, c.Herald.Max, stmtText(o), c.Herald.Requests, errText(r))
	if r.Errors > 0 && len(r.Latencies) == 0 {
		return fmt.Errorf("every request failed: %s", r.FirstError)
	}
	if r.Errors > 0 {
		w.run.Errors = append(w.run.Errors, fmt.Sprintf("%s c=%d: %d errors, first: %s", o.Op, conc, r.Errors, r.FirstError))
	}
	return nil
}

func (w *writes) createContact(ctx context.Context, o *OpResult) error {
	groups := w.run.Data.Groups
	body := func(int64) []byte {
		n := w.b.created.Add(1)
		hooks := make([]map[string]any, 3)
		for k, p := range []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark} {
			u := robotURL(w.b.fake.URL, seededRobot{Platform: p, Token: fmt.Sprintf("n%dx%d", n, k)})
			hooks[k] = map[string]any{"url": u, "platform": string(p)}
		}
		gids := []string{fid(n%int64(groups) + 1), fid((n+1)%int64(groups) + 1), fid((n+2)%int64(groups) + 1)}
		input := map[string]any{"name": fmt.Sprintf("Bench New %s %d", w.b.token[:6], n), "phone": "+8613900000000", "webhooks": hooks, "groupIds": gids}
		return gqlRequest{Query: qCreateContact, OperationName: "CreateContact", Variables: map[string]any{"input": input}}.body()
	}
	for _, conc := range w.b.levels(opSpec{}) {
		if err := w.record(o, conc, runCell(ctx, w.b.client, w.url, w.b.cellLoad(conc), body)); err != nil {
			return err
		}
	}
	return nil
}

// updateContactGroup alternates group 1's members between the first and the last 1,000 contacts.
func (w *writes) updateContactGroup(ctx context.Context, o *OpResult) error {
	ids, err := queryIDs(ctx, w.db, "SELECT id FROM contacts ORDER BY id")
	if err != nil {
		return err
	}
	n := min(1000, len(ids))
	sets := [2][]string{toIDs(ids[:n]), toIDs(ids[len(ids)-n:])}
	bodies := [2][]byte{}
	for i, s := range sets {
		bodies[i] = gqlRequest{Query: qUpdateGroup, OperationName: "UpdateGroupMembers", Variables: map[string]any{"id": "1", "ids": s}}.body()
	}
	iters := w.b.opts.writeIterations
	return w.record(o, 1, runCell(ctx, w.b.client, w.url, load{Concurrency: 1, Requests: iters}, func(i int64) []byte { return bodies[i%2] }))
}

// batchDelete deletes 1,000 freshly inserted contacts per iteration; inserting them is not timed.
func (w *writes) batchDelete(ctx context.Context, o *OpResult) error {
	var r cellRun
	r.StmtMin, r.StmtMax = -1, -1
	start := time.Now()
	var untimed time.Duration
	for it := range w.b.opts.writeIterations {
		t0 := time.Now()
		first := int64(50_000_000 + it*1000)
		if err := w.seeder.addContacts(ctx, first, 1000, fmt.Sprintf("Victim %d ", it), w.run.Data.Groups); err != nil {
			return fmt.Errorf("insert contacts to delete: %w", err)
		}
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fid(first + int64(i))
		}
		untimed += time.Since(t0)
		var out struct {
			BatchDeleteContacts struct {
				DeletedIDs []string `json:"deletedIds"`
			} `json:"batchDeleteContacts"`
		}
		t1 := time.Now()
		n, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qBatchDelete, OperationName: "BatchDelete", Variables: map[string]any{"ids": ids}}, &out)
		d := time.Since(t1)
		if err == nil && len(out.BatchDeleteContacts.DeletedIDs) != 1000 {
			err = fmt.Errorf("deleted %d of 1000", len(out.BatchDeleteContacts.DeletedIDs))
		}
		r.add(d, n, err)
	}
	r.Elapsed = time.Since(start) - untimed
	return w.record(o, 1, r)
}

// add records one timed request into a hand-run cell.
func (r *cellRun) add(d time.Duration, stmts int64, err error) {
	if err != nil {
		r.Errors++
		if r.FirstError == "" {
			r.FirstError = err.Error()
		}
		return
	}
	r.Latencies = append(r.Latencies, d)
	if stmts >= 0 {
		if r.StmtMin < 0 || stmts < r.StmtMin {
			r.StmtMin = stmts
		}
		r.StmtMax = max(r.StmtMax, stmts)
	}
}

// sendAlert makes a group of the first 1,000 contacts, registers their robots with the fake
// platforms, then sends alerts one at a time, timing the mutation and, separately, the delivery.
func (w *writes) sendAlert(ctx context.Context, o *OpResult) error {
	n := min(1000, w.run.Data.Contacts)
	robots, err := w.registerRobots(ctx, int64(n))
	if err != nil {
		return err
	}
	members := make([]int64, n)
	for i := range members {
		members[i] = int64(i + 1)
	}
	gid := int64(w.run.Data.Groups + 1)
	if err := w.seeder.addGroup(ctx, gid, "Bench Alert Group "+randomHex(3), members); err != nil {
		return fmt.Errorf("create the alert group: %w", err)
	}
	var r cellRun
	r.StmtMin, r.StmtMax = -1, -1
	var timed time.Duration
	for i := range w.b.opts.alerts {
		reqs0, rej0 := w.b.fake.Requests(), sumCodes(w.b.fake.Rejected(""))
		var out struct {
			SendAlert struct{ ID, Status string } `json:"sendAlert"`
		}
		t0 := time.Now()
		stmts, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qSendAlert, OperationName: "SendAlert",
			Variables: map[string]any{"group": fid(gid), "title": fmt.Sprintf("herald-bench alert %d", i)}}, &out)
		d := time.Since(t0)
		timed += d
		r.add(d, stmts, err)
		if err != nil {
			continue
		}
		status, err := w.waitDelivered(ctx, out.SendAlert.ID, 3*time.Minute)
		if err != nil {
			return err
		}
		ad := AlertDelivery{AlertID: out.SendAlert.ID, Status: status, Seconds: round(time.Since(t0).Seconds(), 2),
			Requests: w.b.fake.Requests() - reqs0, Rejected: sumCodes(w.b.fake.Rejected("")) - rej0, Recipients: n}
		w.run.Deliveries = append(w.run.Deliveries, ad)
		w.b.logf("%s sendAlert %s: %s after %.2f s, %d platform requests (%d robots), %d rejected",
			w.run.label(), ad.AlertID, ad.Status, ad.Seconds, ad.Requests, robots, ad.Rejected)
	}
	r.Elapsed = timed
	return w.record(o, 1, r)
}

// sendOne sends alerts to one robot at each concurrency and times the mutation: an integrator waits
// for the alert to be accepted, not delivered. The robot is a seeded contact's only webhook.
func (w *writes) sendOne(ctx context.Context, o *OpResult) error {
	var contact int64
	if err := w.db.QueryRowContext(ctx, "SELECT contact_id FROM webhooks GROUP BY contact_id HAVING COUNT(*) = 1 ORDER BY contact_id LIMIT 1").Scan(&contact); err != nil {
		return fmt.Errorf("find a contact with one robot: %w", err)
	}
	if _, err := w.registerRobots(ctx, contact); err != nil {
		return err
	}
	body := func(i int64) []byte {
		return gqlRequest{Query: qSendOne, OperationName: "SendOne",
			Variables: map[string]any{"contact": fid(contact), "title": fmt.Sprintf("herald-bench job %d", i)}}.body()
	}
	for _, conc := range w.b.levels(opSpec{}) {
		if err := w.record(o, conc, runCell(ctx, w.b.client, w.url, w.b.cellLoad(conc), body)); err != nil {
			return err
		}
	}
	return nil
}

// registerRobots adds the seeded robots of contacts 1 to last to the fake platforms, so that what
// the dispatcher sends them is accepted, and returns how many there are.
func (w *writes) registerRobots(ctx context.Context, last int64) (int, error) {
	rows, err := w.db.QueryContext(ctx, "SELECT contact_id, position, url FROM webhooks WHERE contact_id <= ?", last)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	robots := 0
	for rows.Next() {
		var cid int64
		var pos int
		var u string
		if err := rows.Scan(&cid, &pos, &u); err != nil {
			return 0, err
		}
		t := robotFor(cid, pos)
		if robotURL(w.b.fake.URL, t) != u {
			return 0, fmt.Errorf("contact %d's webhook %d is not the seeded robot URL", cid, pos)
		}
		w.b.fake.AddRobot(fakeplatform.Robot{Platform: t.Platform, Token: t.Token, Secret: t.Secret})
		robots++
	}
	return robots, rows.Err()
}

func sumCodes(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// waitDelivered polls the alert until it leaves PENDING.
func (w *writes) waitDelivered(ctx context.Context, id string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		var out struct {
			Alert struct{ Status string } `json:"alert"`
		}
		if _, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qAlertStatus, OperationName: "AlertStatus", Variables: map[string]any{"id": id}}, &out); err != nil {
			return "", err
		}
		if out.Alert.Status != "PENDING" {
			return out.Alert.Status, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("alert %s still PENDING after %s", id, limit)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func queryIDs(ctx context.Context, db *sql.DB, q string, args ...any) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func toIDs(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fid(id)
	}
	return out
}
