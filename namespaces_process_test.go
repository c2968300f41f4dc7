package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// gqlIn posts one operation in the namespace ns and fails the test on any error.
func gqlIn(t testing.TB, base, ns, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Herald-Namespace", ns)
	_, answer := send(t, req, "")
	var res struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.Unmarshal([]byte(answer), &res); err != nil || len(res.Errors) > 0 {
		t.Fatalf("%s in %s: %s", query, ns, answer)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// A robot is the platform's, not a team's: used by two namespaces, it still gets at most its
// budget, and no message carries both namespaces' alerts.
func TestARobotSharedByTwoNamespacesKeepsItsBudget(t *testing.T) {
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("needs MariaDB at HERALD_TEST_MYSQL")
	}
	fake := startFake(t, 5*time.Millisecond) // DingTalk's real limit: 20 messages a minute per robot
	p := launch(t, deliveryEnv(db)...)
	robot := fakeplatform.Robot{Platform: senders.DingTalk, Token: "shared", Secret: "SECshared", Keywords: []string{"SchedulerX"}}
	url := fake.AddRobot(robot)
	teams := []string{"team-a", "team-b"}
	for _, ns := range teams {
		gqlIn(t, p.base, "default", `mutation($n: String!) { createNamespace(input: {name: $n}) { id } }`, map[string]any{"n": ns}, nil)
		gqlIn(t, p.base, ns, `mutation($u: String!) { createContact(input: {name: "on-call", webhooks: [{url: $u, secret: "SECshared"}]}) { id } }`,
			map[string]any{"u": url}, nil)
	}
	const each = 20
	var wg sync.WaitGroup
	for _, ns := range teams {
		for i := range each {
			wg.Go(func() {
				gqlIn(t, p.base, ns, `mutation($t: String!) { sendAlert(input: {title: $t, content: "shared robot", contactNames: ["on-call"]}) { id } }`,
					map[string]any{"t": fmt.Sprintf("%s alert %02d", ns, i)}, nil)
			})
		}
	}
	wg.Wait()
	start := time.Now()
	for _, ns := range teams {
		var pending struct{ Alerts struct{ TotalCount int } }
		for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
			gqlIn(t, p.base, ns, `{ alerts(status: PENDING) { totalCount } }`, nil, &pending)
			if pending.Alerts.TotalCount == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d alerts still pending after 3 minutes", ns, pending.Alerts.TotalCount)
			}
		}
	}
	received := fake.Received("shared")
	t.Logf("40 alerts from two namespaces reached the shared robot in %d messages, the last %s after the sends",
		len(received), time.Since(start).Round(100*time.Millisecond))
	if rejected := fake.Rejected("shared"); len(rejected) != 0 {
		t.Fatalf("the robot refused messages: %v (130101 is DingTalk's rate limit)", rejected)
	}
	if len(received) > 20 {
		t.Fatalf("%d messages to one DingTalk robot within its 20-a-minute budget", len(received))
	}
	seen := map[string]int{}
	for _, m := range received {
		a, b := strings.Contains(m.Text, "team-a alert"), strings.Contains(m.Text, "team-b alert")
		if a && b {
			t.Fatalf("one message carries both namespaces' alerts:\n%s", m.Text)
		}
		for _, ns := range teams {
			for i := range each {
				if title := fmt.Sprintf("%s alert %02d", ns, i); strings.Contains(m.Text, title) {
					seen[title]++
				}
			}
		}
	}
	if len(seen) != 2*each {
		t.Fatalf("%d of the %d alerts' titles reached the robot", len(seen), 2*each)
	}
	req, _ := http.NewRequest(http.MethodGet, p.base+"/metrics", nil)
	_, metrics := send(t, req, "")
	for _, ns := range teams {
		for _, want := range []string{
			`herald_delivery_attempts_total{namespace="` + ns + `",outcome="SENT",platform="DINGTALK"}`,
			`herald_graphql_requests_total{namespace="` + ns + `",operation="sendAlert",outcome="ok"} 20`,
		} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("/metrics lacks %s", want)
			}
		}
	}
}
