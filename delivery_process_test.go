package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// These tests run Herald as separate processes against fake platforms in the test process, to
// prove what only processes can show: a crash loses nothing, replicas never send twice, and
// SIGTERM finishes or releases what is in flight.

// gql posts one GraphQL operation and decodes its data, failing the test on any error.
func gql(t testing.TB, base, query string, vars map[string]any, out any) {
	t.Helper()
	if err := postGraphQL(http.DefaultClient, base, query, vars, out); err != nil {
		t.Fatal(err)
	}
}

// postGraphQL posts one operation and decodes its data into out (when not nil); any error of the
// request or in the answer is returned, so that goroutines can use it too.
func postGraphQL(client *http.Client, base, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := client.Post(base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("POST /query: %w", err)
	}
	defer resp.Body.Close()
	var res struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || len(res.Errors) > 0 {
		return fmt.Errorf("%s: errors %s (decode: %v)", query, res.Errors, err)
	}
	if out != nil {
		return json.Unmarshal(res.Data, out)
	}
	return nil
}

// robotFleet registers n DingTalk robots (signed, with keyword security) on the fake and creates
// one contact per robot, all in one group. It returns the group id and the robots' tokens.
func robotFleet(t testing.TB, base string, fake *fakeplatform.Server, n int) (string, []string) {
	t.Helper()
	var ids, tokens []string
	for i := range n {
		r := fakeplatform.Robot{Platform: senders.DingTalk, Token: fmt.Sprintf("fleet-%04d", i), Secret: "SECfleet", Keywords: []string{"SchedulerX"}}
		var out struct{ CreateContact struct{ ID string } }
		gql(t, base, `mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": r.Token, "webhooks": []any{map[string]any{"url": fake.AddRobot(r), "secret": r.Secret}},
		}}, &out)
		ids = append(ids, out.CreateContact.ID)
		tokens = append(tokens, r.Token)
	}
	var g struct{ CreateContactGroup struct{ ID string } }
	gql(t, base, `mutation($ids: [ID!]) { createContactGroup(input: {name: "fleet", contactIds: $ids}) { id } }`, map[string]any{"ids": ids}, &g)
	return g.CreateContactGroup.ID, tokens
}

func sendToGroup(t testing.TB, base, groupID, title string) string {
	t.Helper()
	var out struct{ SendAlert struct{ ID, Status string } }
	gql(t, base, `mutation($g: [ID!], $t: String!) { sendAlert(input: {title: $t, content: "disk full", groupIds: $g}) { id status } }`,
		map[string]any{"g": []string{groupID}, "t": title}, &out)
	return out.SendAlert.ID
}

// waitForAlert polls until the alert is final and returns its status.
func waitForAlert(t testing.TB, base, id string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var out struct{ Alert struct{ Status string } }
		gql(t, base, `query($id: ID!) { alert(id: $id) { status } }`, map[string]any{"id": id}, &out)
		if out.Alert.Status != "PENDING" || time.Now().After(deadline) {
			return out.Alert.Status
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startFake(t testing.TB, latency time.Duration) *fakeplatform.Server {
	t.Helper()
	fake := fakeplatform.New()
	fake.Latency = latency
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	return fake
}

// deliveryEnv is what every delivery process test gives Herald: loopback robots allowed, and a
// short lease so that a killed process's claims come back within the test.
func deliveryEnv(db modelstest.DB, extra ...string) []string {
	return append([]string{"HERALD_DATABASE=" + db.URL, "HERALD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1", "HERALD_SECRET_KEY=" + testSecretKey,
		"HERALD_WEBHOOK_TIMEOUT=2s", "HERALD_DELIVERY_LEASE=3s", "HERALD_DELIVERY_POLL=200ms"}, extra...)
}

// testSecretKey seals the secrets of every process a test starts on one database, as replicas share a key.
var testSecretKey = func() string {
	k, err := secrets.GenerateKey()
	if err != nil {
		panic(err)
	}
	return k
}()

// waitReceived waits until the fake has accepted n messages.
func waitReceived(t testing.TB, fake *fakeplatform.Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); len(fake.Received("")) < n; {
		if time.Now().After(deadline) {
			t.Fatal("deliveries did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// duplicatesOf counts the robots that got the alert more than once, failing the test for any that
// never got it.
func duplicatesOf(t testing.TB, fake *fakeplatform.Server, tokens []string) int {
	t.Helper()
	per := receivedPerRobot(fake)
	duplicates := 0
	for _, tok := range tokens {
		if per[tok] == 0 {
			t.Errorf("robot %s never received the alert", tok)
		}
		duplicates += max(per[tok]-1, 0)
	}
	return duplicates
}

// receivedPerRobot counts accepted messages per robot token.
func receivedPerRobot(fake *fakeplatform.Server) map[string]int {
	n := map[string]int{}
	for _, m := range fake.Received("") {
		n[m.Token]++
	}
	return n
}

func TestCrashMidDeliveryLosesNothing(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		const robots, workers = 500, 8
		fake := startFake(t, 20*time.Millisecond)
		base, _, cmd := startServerProcess(t, deliveryEnv(db, fmt.Sprintf("HERALD_DELIVERY_WORKERS=%d", workers))...)
		group, tokens := robotFleet(t, base, fake, robots)
		alert := sendToGroup(t, base, group, "crash test")
		waitReceived(t, fake, robots/5)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		atKill := len(fake.Received(""))
		if atKill >= robots {
			t.Fatalf("all %d deliveries were sent before the kill; the test proves nothing", atKill)
		}
		base, _, _ = startServerProcess(t, deliveryEnv(db, fmt.Sprintf("HERALD_DELIVERY_WORKERS=%d", workers))...)
		if status := waitForAlert(t, base, alert, 60*time.Second); status != "DELIVERED" {
			t.Fatalf("after restart the alert is %s", status)
		}
		duplicates := duplicatesOf(t, fake, tokens)
		t.Logf("killed after %d of %d sends; %d duplicates (at most %d were in flight)", atKill, robots, duplicates, workers)
		if duplicates > workers {
			t.Fatalf("%d duplicates, more than the %d deliveries that can be in flight", duplicates, workers)
		}
	})
}

func TestTwoReplicasNeverSendTwice(t *testing.T) {
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("replicas share a MySQL database; none is reachable")
	}
	const robots = 300
	fake := startFake(t, 10*time.Millisecond)
	baseA, _, _ := startServerProcess(t, deliveryEnv(db, "HERALD_DELIVERY_WORKERS=8")...)
	baseB, _, _ := startServerProcess(t, deliveryEnv(db, "HERALD_DELIVERY_WORKERS=8")...)
	group, tokens := robotFleet(t, baseA, fake, robots)
	first := sendToGroup(t, baseA, group, "via A")
	second := sendToGroup(t, baseB, group, "via B")
	for _, id := range []string{first, second} {
		if status := waitForAlert(t, baseA, id, 90*time.Second); status != "DELIVERED" {
			t.Fatalf("alert %s is %s", id, status)
		}
	}
	// Two alerts to each robot within a second: the second may be combined with the first, so
	// count alert titles, not messages.
	seen := map[string]int{}
	for _, m := range fake.Received("") {
		for _, title := range []string{"via A", "via B"} {
			if bytes.Contains([]byte(m.Text), []byte(title)) {
				seen[m.Token+"/"+title]++
			}
		}
	}
	for _, tok := range tokens {
		for _, title := range []string{"via A", "via B"} {
			if n := seen[tok+"/"+title]; n != 1 {
				t.Errorf("robot %s got %q %d times", tok, title, n)
			}
		}
	}
}

func TestSIGTERMFinishesInFlightDeliveries(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		const robots = 20
		fake := startFake(t, 400*time.Millisecond)
		base, stop, _ := startServerProcess(t, deliveryEnv(db, "HERALD_DELIVERY_WORKERS=4")...)
		group, tokens := robotFleet(t, base, fake, robots)
		alert := sendToGroup(t, base, group, "drain test")
		for deadline := time.Now().Add(20 * time.Second); fake.Requests() == 0; {
			if time.Now().After(deadline) {
				t.Fatal("no delivery started")
			}
			time.Sleep(5 * time.Millisecond)
		}
		stop() // SIGTERM; fails the test unless the exit is clean
		sentBeforeRestart := len(fake.Received(""))
		if sentBeforeRestart == 0 || sentBeforeRestart >= robots {
			t.Fatalf("%d of %d sent before exit: the in-flight sends were not finished, or nothing was left to release", sentBeforeRestart, robots)
		}
		base, _, _ = startServerProcess(t, deliveryEnv(db, "HERALD_DELIVERY_WORKERS=4")...)
		if status := waitForAlert(t, base, alert, 30*time.Second); status != "DELIVERED" {
			t.Fatalf("after restart the alert is %s", status)
		}
		per := receivedPerRobot(fake)
		for _, tok := range tokens {
			if per[tok] != 1 {
				t.Errorf("robot %s received %d messages; a drained stop sends each exactly once", tok, per[tok])
			}
		}
	})
}

// BenchmarkFanOutToThousandRobots sends one alert to 1,000 distinct robots that each answer after
// 50 ms, through a Herald process on MariaDB, and reports sendAlert's latency, the time from
// sendAlert to the last SENT, and deliveries per second.
//
//	go test -run '^$' -bench FanOutToThousandRobots -benchtime 3x .
func BenchmarkFanOutToThousandRobots(b *testing.B) {
	db, ok := modelstest.MySQL(b)
	if !ok {
		b.Skip("needs MariaDB at HERALD_TEST_MYSQL")
	}
	const robots = 1000
	fake := startFake(b, 50*time.Millisecond)
	workers := os.Getenv("HERALD_DELIVERY_WORKERS")
	if workers == "" {
		workers = "100"
	}
	base, _, _ := startServerProcess(b, deliveryEnv(db, "HERALD_DELIVERY_WORKERS="+workers)...)
	group, _ := robotFleet(b, base, fake, robots)
	var sendTotal, drainTotal time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		id := sendToGroup(b, base, group, fmt.Sprintf("fan-out %d", i))
		sendTotal += time.Since(start)
		if status := waitForAlert(b, base, id, 5*time.Minute); status != "DELIVERED" {
			b.Fatalf("alert %s", status)
		}
		drainTotal += time.Since(start)
	}
	b.ReportMetric(float64(sendTotal.Microseconds())/1000/float64(b.N), "sendAlert-ms")
	b.ReportMetric(drainTotal.Seconds()/float64(b.N), "all-sent-s")
	b.ReportMetric(robots*float64(b.N)/drainTotal.Seconds(), "deliveries/s")
}

func TestACrashedProcessesWorkIsTakenOverWithinALease(t *testing.T) {
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("needs MariaDB at HERALD_TEST_MYSQL")
	}
	const robots, workers = 200, 16
	fake := startFake(t, 120*time.Millisecond)
	// The default lease: what an operator who changes nothing gets.
	env := []string{"HERALD_DATABASE=" + db.URL, "HERALD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1", "HERALD_SECRET_KEY=" + testSecretKey,
		fmt.Sprintf("HERALD_DELIVERY_WORKERS=%d", workers)}
	base, _, cmd := startServerProcess(t, env...)
	group, tokens := robotFleet(t, base, fake, robots)
	alert := sendToGroup(t, base, group, "lease test")
	waitReceived(t, fake, robots/4)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := time.Now()
	base, _, _ = startServerProcess(t, env...)
	if status := waitForAlert(t, base, alert, 60*time.Second); status != "DELIVERED" {
		t.Fatalf("after restart the alert is %s", status)
	}
	took := time.Since(killed)
	duplicates := duplicatesOf(t, fake, tokens)
	t.Logf("after a SIGKILL mid fan-out, every robot had the alert %s later (default lease 8 s); %d duplicates", took.Round(time.Millisecond), duplicates)
	if took > 20*time.Second {
		t.Fatalf("the crashed process's work took %s to finish; its leases should have let it go within 8 s", took)
	}
	if duplicates > workers {
		t.Fatalf("%d duplicates, more than the %d sends in flight", duplicates, workers)
	}
}
