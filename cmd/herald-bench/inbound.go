package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// inboundRobots is the number of contacts in the integration's group: a team's on-call chat,
// not a fan-out (sendAlert measures that).
const inboundRobots = 5

const qCreateIntegration = `mutation CreateIntegration($group: ID!, $name: String!) { createIntegration(input: {name: $name,
	kind: ALERTMANAGER, groupIds: [$group]}) { token integration { id url } } }`

// hookAnswer is what Herald answers an accepted notification.
type hookAnswer struct {
	AlertID       string `json:"alertId"`
	Status        string `json:"status"`
	Duplicate     bool   `json:"duplicate"`
	SQLStatements *int64 `json:"sqlStatements"`
}

// notificationBody is Alertmanager's webhook for group i: five firing alerts, a group of its own,
// so that every notification is new to Herald.
func notificationBody(run string, i int64) []byte {
	name := fmt.Sprintf("Bench%s%d", run, i)
	alerts := make([]map[string]any, 5)
	for k := range alerts {
		alerts[k] = map[string]any{
			"status": "firing", "labels": map[string]string{"alertname": name, "instance": fmt.Sprintf("host-%d:9100", k), "severity": "warning"},
			"annotations": map[string]string{"summary": fmt.Sprintf("host-%d is slow", k), "description": "p99 latency above 2s for 5m"},
			"startsAt":    "2026-12-01T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
			"fingerprint": fmt.Sprintf("%016x", i*5+int64(k)),
		}
	}
	b, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": fmt.Sprintf(`{}:{alertname=%q}`, name), "truncatedAlerts": 0, "status": "firing", "receiver": "herald",
		"groupLabels": map[string]string{"alertname": name}, "commonLabels": map[string]string{"alertname": name, "severity": "warning"},
		"commonAnnotations": map[string]string{"description": "p99 latency above 2s for 5m"}, "externalURL": "http://alertmanager:9093", "alerts": alerts,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// inbound posts Alertmanager notifications to one integration's hook at each concurrency level,
// and samples the dispatcher's claim latency by quarter of each cell: a queue whose claims slow
// down as the backlog grows would show it there.
func (w *writes) inbound(ctx context.Context, o *OpResult) error {
	members := make([]int64, min(inboundRobots, w.run.Data.Contacts))
	for i := range members {
		members[i] = int64(i + 1)
	}
	if _, err := w.registerRobots(ctx, int64(len(members))); err != nil {
		return err
	}
	gid := int64(w.run.Data.Groups + 2)
	if err := w.seeder.addGroup(ctx, gid, "Bench Inbound Group "+randomHex(3), members); err != nil {
		return fmt.Errorf("create the inbound group: %w", err)
	}
	var created struct {
		CreateIntegration struct {
			Token       string
			Integration struct{ ID, URL string }
		} `json:"createIntegration"`
	}
	if _, err := w.b.client.call(ctx, w.url, gqlRequest{Query: qCreateIntegration, OperationName: "CreateIntegration",
		Variables: map[string]any{"group": fid(gid), "name": "bench-am-" + randomHex(3)}}, &created); err != nil {
		return err
	}
	hook := strings.TrimSuffix(w.url, "/query") + "/hooks/" + created.CreateIntegration.Integration.ID
	token := created.CreateIntegration.Token
	run := randomHex(3)
	var next int64
	for _, conc := range w.b.levels(opSpec{}) {
		base := next
		body := func(i int64) []byte { return notificationBody(run, base+i) }
		post := func(ctx context.Context, b []byte, buf *bytes.Buffer) (int64, error) {
			if err := w.b.client.send(ctx, hook, token, b, buf, http.StatusAccepted); err != nil {
				return -1, err
			}
			var a hookAnswer
			if err := json.Unmarshal(buf.Bytes(), &a); err != nil || a.AlertID == "" || a.Duplicate {
				return -1, fmt.Errorf("not an accepted notification: %s", clip(buf.Bytes(), 200))
			}
			if a.SQLStatements == nil {
				return -1, nil
			}
			return *a.SQLStatements, nil
		}
		claims, stop := w.sampleClaims(ctx, w.b.cellLoad(conc).Duration)
		r := runLoad(ctx, w.b.cellLoad(conc), body, post)
		quarters, mean := stop()
		next += int64(len(r.Latencies) + r.Errors + conc)
		if err := w.record(o, conc, r); err != nil {
			return err
		}
		cell := &o.Cells[len(o.Cells)-1]
		cell.ClaimMs = quarters
		if claims() > 0 {
			cell.ClaimMeanMs = &mean
		}
		w.b.logf("%s inbound c=%d claim latency by quarter of the cell (mean ms): %s; over the cell %.2f (%d claims)",
			w.run.label(), conc, formatQuarters(quarters), mean, claims())
	}
	return nil
}

// sampleClaims reads Herald's claim-duration histogram at the start and after each quarter of
// a cell lasting d; stop returns the mean claim latency of each quarter, and of the whole cell, in
// milliseconds.
func (w *writes) sampleClaims(ctx context.Context, d time.Duration) (count func() int64, stop func() ([]float64, float64)) {
	metricsURL := strings.TrimSuffix(w.url, "/query") + "/metrics"
	type sample struct{ sum, count float64 }
	read := func() sample {
		s, n, _ := claimHistogram(ctx, w.b.client, metricsURL)
		return sample{s, n}
	}
	samples := []sample{read()}
	done := make(chan struct{})
	finished := make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(finished)
		tick := time.NewTicker(max(d/4, 10*time.Millisecond))
		defer tick.Stop()
		for range 3 {
			select {
			case <-done:
				return
			case <-tick.C:
				s := read()
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		}
	}()
	var last sample
	count = func() int64 { return int64(last.count - samples[0].count) }
	stop = func() ([]float64, float64) {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		last = read()
		samples = append(samples, last)
		var out []float64
		for i := 1; i < len(samples); i++ {
			n := samples[i].count - samples[i-1].count
			if n <= 0 {
				out = append(out, 0)
				continue
			}
			out = append(out, round((samples[i].sum-samples[i-1].sum)/n*1000, 2))
		}
		var mean float64
		if n := last.count - samples[0].count; n > 0 {
			mean = round((last.sum-samples[0].sum)/n*1000, 2)
		}
		return out, mean
	}
	return count, stop
}

// claimHistogram reads the sum (seconds) and count of herald_delivery_claim_duration_seconds.
func claimHistogram(ctx context.Context, c *client, url string) (sum, count float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "herald_delivery_claim_duration_seconds_sum":
			sum, _ = strconv.ParseFloat(value, 64)
		case "herald_delivery_claim_duration_seconds_count":
			count, _ = strconv.ParseFloat(value, 64)
		}
	}
	return sum, count, sc.Err()
}

func formatQuarters(q []float64) string {
	parts := make([]string, len(q))
	for i, v := range q {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}
