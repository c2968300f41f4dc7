package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// timeToDeliver sends three alerts to the group, one after the other, and returns the median time
// until one is final.
func timeToDeliver(t *testing.T, base, group, title string) time.Duration {
	t.Helper()
	var took []time.Duration
	for i := range 3 {
		start := time.Now()
		id := sendToGroup(t, base, group, fmt.Sprintf("%s %d", title, i))
		if status := waitForAlert(t, base, id, 60*time.Second); status != "DELIVERED" {
			t.Fatalf("alert %q is %s", title, status)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[1]
}

func TestDeadRobotsDoNotDelayTheHealthyOnes(t *testing.T) {
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("needs MariaDB at HERALD_TEST_MYSQL")
	}
	const healthy, backlog = 100, 1000
	const poll = 200 * time.Millisecond
	fake := startFake(t, 20*time.Millisecond)
	base, _, _ := startServerProcess(t, "HERALD_DATABASE="+db.URL, "HERALD_SECRET_KEY="+testSecretKey,
		"HERALD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1,dead-robot.invalid", "HERALD_WEBHOOK_TIMEOUT=2s",
		"HERALD_DELIVERY_POLL="+poll.String())
	group, _ := robotFleet(t, base, fake, healthy)
	alone := timeToDeliver(t, base, group, "before the dead robots")

	// Three robots that never answer well: one hangs until the timeout, one answers 503 forever,
	// one has a name that does not resolve. Each gets a backlog of deliveries.
	var dead []string
	for i, fault := range []fakeplatform.Fault{fakeplatform.FaultHang, fakeplatform.Fault5xx} {
		r := fakeplatform.Robot{Platform: senders.WeCom, Token: fmt.Sprintf("dead-%d", i)}
		url := fake.AddRobot(r)
		fake.FailNext(r.Token, 1_000_000, fault)
		dead = append(dead, url)
	}
	dead = append(dead, "https://dead-robot.invalid/cgi-bin/webhook/send?key=nowhere")
	var ids []string
	for i, url := range dead {
		var out struct{ CreateContact struct{ ID string } }
		gql(t, base, `mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": fmt.Sprintf("dead %d", i), "webhooks": []any{map[string]any{"url": url}}}}, &out)
		ids = append(ids, out.CreateContact.ID)
	}
	var g struct{ CreateContactGroup struct{ ID string } }
	gql(t, base, `mutation($ids: [ID!]) { createContactGroup(input: {name: "dead", contactIds: $ids}) { id } }`, map[string]any{"ids": ids}, &g)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < backlog && errs[w] == nil; i += 8 {
				_, errs[w] = timedPost(client, base, `mutation($g: [ID!], $t: String!) { sendAlert(input: {title: $t, content: "backlog", groupIds: $g}) { id } }`,
					map[string]any{"g": []string{g.CreateContactGroup.ID}, "t": fmt.Sprintf("backlog %d", i)})
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("sending the backlog: %v", err)
		}
	}
	time.Sleep(2 * time.Second) // the dead robots are being tried, and their breakers open

	beside := timeToDeliver(t, base, group, "beside the dead robots")
	var pending struct{ Alerts struct{ TotalCount int } }
	gql(t, base, `{ alerts(status: PENDING) { totalCount } }`, nil, &pending)
	if pending.Alerts.TotalCount < backlog {
		t.Fatalf("only %d alerts wait for the dead robots; the test proves nothing", pending.Alerts.TotalCount)
	}
	t.Logf("an alert to %d healthy robots was delivered in %s alone and %s beside 3 dead robots with %d deliveries each (medians of 3; poll %s)",
		healthy, alone.Round(time.Millisecond), beside.Round(time.Millisecond), backlog, poll)
	if beside > alone+poll+500*time.Millisecond {
		t.Fatalf("the dead robots delayed the healthy ones by %s, more than a poll interval", (beside - alone).Round(time.Millisecond))
	}
}
