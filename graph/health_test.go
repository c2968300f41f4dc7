package graph_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
)

// The history's filters and the delivery statistics behave the same on both databases, and every
// wrong argument is a typed error at its field. Deliveries reaching SENT or FAILED, retries and
// subscriptions need a dispatcher and are proved against real processes (live_process_test.go).

func (a *api) alertTitles(filter map[string]any) []string {
	a.t.Helper()
	var out struct {
		Alerts struct {
			TotalCount int
			Edges      []struct{ Node struct{ Title string } }
		}
	}
	a.must(`query($f: AlertFilter) { alerts(first: 100, filter: $f) { totalCount edges { node { title } } } }`, map[string]any{"f": filter}, &out)
	titles := make([]string, len(out.Alerts.Edges))
	for i, e := range out.Alerts.Edges {
		titles[i] = e.Node.Title
	}
	if out.Alerts.TotalCount != len(titles) {
		a.t.Fatalf("filter %v: totalCount %d but %d alerts listed", filter, out.Alerts.TotalCount, len(titles))
	}
	return titles
}

func TestAlertFiltersMatchTheSameAlertsOnBothDatabases(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.createContact("Dave")
		send := func(title, severity string, labels ...map[string]any) {
			a.must(`mutation($t: String!, $s: Severity, $l: [LabelInput!]) { sendAlert(input: {title: $t, content: "c", contactNames: ["Dave"], severity: $s, labels: $l}) { id } }`,
				map[string]any{"t": title, "s": severity, "l": labels}, nil)
		}
		send("Disk full on db-1", "CRITICAL", map[string]any{"name": "team", "value": "db"}, map[string]any{"name": "env", "value": "prod"})
		send("ÉTÉ backup late", "WARNING", map[string]any{"name": "team", "value": "d%b"})
		send("cpu_high 100%", "INFO", map[string]any{"name": "team", "value": "d_b"})

		for _, c := range []struct {
			filter map[string]any
			want   string
		}{
			{map[string]any{"severity": "CRITICAL"}, "Disk full on db-1"},
			{map[string]any{"labels": []any{map[string]any{"name": "team", "value": "db"}}}, "Disk full on db-1"},
			{map[string]any{"labels": []any{map[string]any{"name": "team", "value": "db"}, map[string]any{"name": "env", "value": "prod"}}}, "Disk full on db-1"},
			// LIKE's wildcards in a value are the characters themselves.
			{map[string]any{"labels": []any{map[string]any{"name": "team", "value": "d%b"}}}, "ÉTÉ backup late"},
			{map[string]any{"labels": []any{map[string]any{"name": "team", "value": "d_b"}}}, "cpu_high 100%"},
			{map[string]any{"labels": []any{map[string]any{"name": "env", "value": "dev"}}}, ""},
			// Letter case folds in every script; accents still count.
			{map[string]any{"search": "disk FULL"}, "Disk full on db-1"},
			{map[string]any{"search": "été"}, "ÉTÉ backup late"},
			{map[string]any{"search": "ete"}, ""},
			{map[string]any{"search": "_high 100%"}, "cpu_high 100%"},
			{map[string]any{"search": "h_gh"}, ""},
			{map[string]any{"direct": true, "severity": "INFO"}, "cpu_high 100%"},
			{map[string]any{"sourceId": "12345"}, ""},
			{map[string]any{"sourceId": "not-an-id"}, ""},
			{map[string]any{"to": "2000-01-01T00:00:00Z"}, ""},
			{map[string]any{"from": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "severity": "WARNING"}, "ÉTÉ backup late"},
		} {
			got := a.alertTitles(c.filter)
			if (c.want == "" && len(got) != 0) || (c.want != "" && (len(got) != 1 || got[0] != c.want)) {
				t.Errorf("filter %v: got %q, want %q", c.filter, got, c.want)
			}
		}
		if got := a.alertTitles(nil); len(got) != 3 {
			t.Errorf("no filter: %q", got)
		}
		a.fail(`{ alerts(filter: {direct: true, sourceId: "1"}) { totalCount } }`, nil, "BAD_USER_INPUT", "filter.direct")
		a.fail(`{ alerts(filter: {from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z"}) { totalCount } }`, nil, "BAD_USER_INPUT", "filter.to")
		a.fail(`{ alerts(filter: {labels: [{name: "has space", value: "x"}]}) { totalCount } }`, nil, "BAD_USER_INPUT", "filter.labels[0].name")
		nine := make([]any, 9)
		for i := range nine {
			nine[i] = map[string]any{"name": "l" + string(rune('a'+i)), "value": "v"}
		}
		a.fail(`query($l: [LabelInput!]) { alerts(filter: {labels: $l}) { totalCount } }`, map[string]any{"l": nine}, "BAD_USER_INPUT", "filter.labels")
	})
}

func TestDeliveryStatsCountsByBucketAndRefusesWrongRanges(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.createContact("Dave")
		a.createContact("Erin")
		for range 2 {
			a.must(`mutation { sendAlert(input: {title: "t", content: "c", contactNames: ["Dave", "Erin"]}) { id } }`, nil, nil)
		}
		now := time.Now().UTC()
		var out struct {
			DeliveryStats struct {
				From, To string
				Alerts   int
				Totals   struct{ Total, Pending int }
				Buckets  []struct {
					Start  string
					Counts struct{ Total, Pending int }
				}
				AlertsBySource []struct {
					SourceID *string
					Alerts   int
				}
				FailingRobots []struct{ Failed int }
			}
		}
		a.must(`query($f: Time!, $t: Time!) { deliveryStats(from: $f, to: $t, bucket: DAY) { from to alerts totals { total pending }
			buckets { start counts { total pending } } alertsBySource { sourceId alerts } failingRobots(first: 20) { failed } } }`,
			map[string]any{"f": now.Add(-72 * time.Hour).Format(time.RFC3339), "t": now.Format(time.RFC3339Nano)}, &out)
		s := out.DeliveryStats
		today := now.Truncate(24 * time.Hour)
		if s.From != today.Add(-72*time.Hour).Format(time.RFC3339) || s.To != today.Add(24*time.Hour).Format(time.RFC3339) || len(s.Buckets) != 4 {
			t.Fatalf("range %s-%s with %d buckets", s.From, s.To, len(s.Buckets))
		}
		if s.Alerts != 2 || s.Totals.Total != 4 || s.Totals.Pending != 4 || s.Buckets[3].Counts.Total != 4 || s.Buckets[0].Counts.Total != 0 ||
			len(s.AlertsBySource) != 1 || s.AlertsBySource[0].Alerts != 2 || len(s.FailingRobots) != 0 {
			t.Fatalf("stats %+v", s)
		}
		// Another namespace sees none of it.
		a.must(`mutation { createNamespace(input: {name: "other"}) { id } }`, nil, nil)
		var other struct{ DeliveryStats struct{ Alerts int } }
		a.in("other").must(`query($f: Time!, $t: Time!) { deliveryStats(from: $f, to: $t) { alerts } }`,
			map[string]any{"f": now.Add(-time.Hour).Format(time.RFC3339), "t": now.Add(time.Hour).Format(time.RFC3339)}, &other)
		if other.DeliveryStats.Alerts != 0 {
			t.Fatalf("another namespace counts %d alerts", other.DeliveryStats.Alerts)
		}

		at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
		a.fail(`query($f: Time!, $t: Time!) { deliveryStats(from: $f, to: $t) { alerts } }`, map[string]any{"f": at(0), "t": at(-time.Hour)}, "BAD_USER_INPUT", "to")
		a.fail(`query($f: Time!, $t: Time!) { deliveryStats(from: $f, to: $t) { alerts } }`, map[string]any{"f": at(-32 * 24 * time.Hour), "t": at(0)}, "BAD_USER_INPUT", "from")
		a.fail(`query($f: Time!, $t: Time!) { deliveryStats(from: $f, to: $t) { failingRobots(first: 0) { failed } } }`, map[string]any{"f": at(-time.Hour), "t": at(0)}, "BAD_USER_INPUT", "first")
	})
}

func TestRetryNamesWhatItCannotRetry(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.createContact("Dave")
		var sent struct {
			SendAlert struct {
				ID         string
				Deliveries []struct{ ID string }
			}
		}
		a.must(`mutation { sendAlert(input: {title: "t", content: "c", contactNames: ["Dave"]}) { id deliveries { id } } }`, nil, &sent)
		a.fail(`mutation($id: ID!) { retryDelivery(id: $id) { id } }`, map[string]any{"id": sent.SendAlert.Deliveries[0].ID}, "BAD_USER_INPUT", "id")
		a.fail(`mutation($id: ID!) { retryFailedDeliveries(alertId: $id) { id } }`, map[string]any{"id": sent.SendAlert.ID}, "BAD_USER_INPUT", "alertId")
		a.fail(`mutation { retryDelivery(id: "999999") { id } }`, nil, "NOT_FOUND", "id")
		a.fail(`mutation { retryFailedDeliveries(alertId: "x") { id } }`, nil, "NOT_FOUND", "alertId")
		// A delivery of another namespace's alert does not exist here.
		a.must(`mutation { createNamespace(input: {name: "other"}) { id } }`, nil, nil)
		a.in("other").fail(`mutation($id: ID!) { retryDelivery(id: $id) { id } }`, map[string]any{"id": sent.SendAlert.Deliveries[0].ID}, "NOT_FOUND", "id")
	})
}
