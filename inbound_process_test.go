package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// These tests put a real Prometheus Alertmanager (Debian's prometheus-alertmanager, 0.25) in
// front of a Herald process: its webhook receiver posts to an integration's hook with bearer
// credentials, and its own grouping, retries and repeats decide what Herald sees.

// alertmanager is a running Alertmanager with gossip off.
type alertmanager struct {
	base string
	logs *syncBuffer
}

// startAlertmanager runs Alertmanager with one webhook receiver posting to hookURL with token.
// Without the binary the test is skipped, unless HERALD_ALERTMANAGER_REQUIRED=1 (CI installs it).
func startAlertmanager(t *testing.T, hookURL, token, repeat string) *alertmanager {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv("HERALD_ALERTMANAGER_REQUIRED") == "1" {
			t.Fatalf("prometheus-alertmanager is needed for the inbound tests: %v", err)
		}
		t.Skip("no prometheus-alertmanager (apt-get install prometheus-alertmanager)")
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`route:
  receiver: herald
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: %s
receivers:
  - name: herald
    webhook_configs:
      - url: '%s'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: '%s'
`, repeat, hookURL, token)
	if err := os.WriteFile(filepath.Join(dir, "am.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePortBelowEphemeral(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "am.yml"), "--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--cluster.listen-address=", "--log.level=debug")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	am := &alertmanager{base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &syncBuffer{}}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			am.logs.add(sc.Text())
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(am.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return am
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager did not become ready:\n%s", am.logs)
		}
	}
}

// fire posts alerts to Alertmanager's API; ends, when set, resolves them.
func (am *alertmanager) fire(t *testing.T, labels map[string]string, summary string, ends *time.Time) {
	t.Helper()
	a := map[string]any{"labels": labels, "annotations": map[string]string{"summary": summary}, "generatorURL": "http://prometheus:9090/graph"}
	if ends != nil {
		a["endsAt"] = ends.UTC().Format(time.RFC3339)
		a["startsAt"] = ends.Add(-time.Minute).UTC().Format(time.RFC3339)
	}
	body, _ := json.Marshal([]any{a})
	resp, err := http.Post(am.base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("alertmanager refused the alert: %d %s", resp.StatusCode, msg)
	}
}

// inboundCount reads herald_inbound_notifications_total for an outcome from /metrics.
func inboundCount(t *testing.T, base, outcome string) int {
	t.Helper()
	return metricSum(t, base, `herald_inbound_notifications_total\{[^}]*outcome="`+outcome+`"[^}]*\}`)
}

// metricSum reads /metrics and sums the values of the series matching the pattern (a metric name,
// and its labels where they matter).
func metricSum(t *testing.T, base, series string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + series + ` (\d+)`)
	total := 0
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

// waitFor polls cond until it holds, failing with what after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
	}
}

// alertmanagerSetup is Herald with a signed DingTalk robot (keyword security on) and a signed
// Lark robot in one group, and an ALERTMANAGER integration sending to it.
func alertmanagerSetup(t *testing.T, p *proc, fake *fakeplatform.Server) (hookURL, token string, robots []string) {
	t.Helper()
	ding := fakeplatform.Robot{Platform: senders.DingTalk, Token: "am-ding", Secret: "SECding", Keywords: []string{"SchedulerX"}}
	lark := fakeplatform.Robot{Platform: senders.Lark, Token: "am-lark", Secret: "larksecret"}
	var ids []string
	for _, r := range []fakeplatform.Robot{ding, lark} {
		var out struct{ CreateContact struct{ ID string } }
		gql(t, p.base, `mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": r.Token, "webhooks": []any{map[string]any{"url": fake.AddRobot(r), "secret": r.Secret}},
		}}, &out)
		ids = append(ids, out.CreateContact.ID)
	}
	var g struct{ CreateContactGroup struct{ ID string } }
	gql(t, p.base, `mutation($ids: [ID!]) { createContactGroup(input: {name: "sre", contactIds: $ids}) { id } }`, map[string]any{"ids": ids}, &g)
	var in struct {
		CreateIntegration struct {
			Token       string
			Integration struct{ URL string }
		}
	}
	gql(t, p.base, `mutation($g: ID!) { createIntegration(input: {name: "prod-am", kind: ALERTMANAGER, groupIds: [$g], timeZone: "Asia/Shanghai"}) { token integration { url } } }`,
		map[string]any{"g": g.CreateContactGroup.ID}, &in)
	if in.CreateIntegration.Integration.URL != p.base+"/hooks/1" {
		t.Fatalf("hook URL %q, want the listen address's", in.CreateIntegration.Integration.URL)
	}
	return in.CreateIntegration.Integration.URL, in.CreateIntegration.Token, []string{ding.Token, lark.Token}
}

// messagesWith counts each robot's accepted messages whose text contains s.
func messagesWith(fake *fakeplatform.Server, robots []string, s string) map[string]int {
	n := map[string]int{}
	for _, r := range robots {
		for _, m := range fake.Received(r) {
			if strings.Contains(m.Text, s) {
				n[r]++
			}
		}
	}
	return n
}

func TestAlertmanagerAlertsReachTheRobotsOnceAndTheirResolveToo(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		fake := startFake(t, 0)
		p := launch(t, deliveryEnv(db, "HERALD_METRICS_PUBLIC=true")...)
		hookURL, token, robots := alertmanagerSetup(t, p, fake)
		am := startAlertmanager(t, hookURL, token, "3s")
		am.fire(t, map[string]string{"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical"}, "db1 is 95% full", nil)
		waitFor(t, 30*time.Second, "the firing message at both robots", func() bool {
			return len(messagesWith(fake, robots, "[FIRING:1] DiskFull")) == 2
		})
		// Alertmanager repeats the unchanged group after repeat_interval: Herald answers duplicate.
		waitFor(t, 30*time.Second, "Alertmanager's repeat", func() bool { return inboundCount(t, p.base, "duplicate") >= 1 })
		for _, r := range robots {
			got := fake.Received(r)
			if len(got) != 1 {
				t.Fatalf("robot %s got %d messages after a repeat, want 1", r, len(got))
			}
			wants := []string{"db1 is 95% full", "instance: db1:9100", "CST", "CRITICAL"}
			if r == "am-ding" {
				wants = append(wants, "SchedulerX") // the fake refuses a DingTalk message without it anyway
			}
			for _, want := range wants {
				if !strings.Contains(got[0].Text, want) {
					t.Errorf("robot %s's message lacks %q:\n%s", r, want, got[0].Text)
				}
			}
		}
		ended := time.Now().Add(-time.Second)
		am.fire(t, map[string]string{"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical"}, "db1 is 95% full", &ended)
		waitFor(t, 30*time.Second, "the resolved message at both robots", func() bool {
			return len(messagesWith(fake, robots, "[RESOLVED] DiskFull")) == 2
		})
		for _, r := range robots {
			if n := len(fake.Received(r)); n != 2 {
				t.Errorf("robot %s got %d messages, want the firing one and the resolved one", r, n)
			}
			if last := fake.Received(r)[1]; !strings.Contains(last.Text, senders.ResolvedLabel) {
				t.Errorf("robot %s's resolve does not read resolved:\n%s", r, last.Text)
			}
		}
		var out struct {
			Alerts struct {
				Edges []struct {
					Node struct {
						Title    string
						Resolved bool
						Status   string
						Source   struct{ Name string }
						Labels   []struct{ Name, Value string }
					}
				}
			}
		}
		gql(t, p.base, `{ alerts { edges { node { title resolved status source { name } labels { name value } } } } }`, nil, &out)
		if len(out.Alerts.Edges) != 2 || !out.Alerts.Edges[0].Node.Resolved || out.Alerts.Edges[1].Node.Source.Name != "prod-am" {
			t.Fatalf("alerts %+v", out.Alerts.Edges)
		}
		if !strings.Contains(fmt.Sprint(out.Alerts.Edges[1].Node.Labels), "{alertname DiskFull}") {
			t.Errorf("labels %v", out.Alerts.Edges[1].Node.Labels)
		}
		if strings.Contains(p.logs.String(), token) {
			t.Error("the hook token is in Herald's log")
		}
	})
}

func TestAlertmanagerRetriesThroughADatabaseOutageAndTheAlertArrivesOnce(t *testing.T) {
	my := startPrivateMariaDB(t)
	fake := startFake(t, 0)
	p := launch(t, append(outageEnv(my), "HERALD_METRICS_PUBLIC=true")...)
	hookURL, token, robots := alertmanagerSetup(t, p, fake)
	am := startAlertmanager(t, hookURL, token, "1h")
	my.kill()
	am.fire(t, map[string]string{"alertname": "HighLatency", "job": "api"}, "p99 above 2s", nil)
	// Herald answers 503 while its database is away; Alertmanager retries (a 4xx it would not).
	waitFor(t, 30*time.Second, "Alertmanager to retry against 503s", func() bool { return inboundCount(t, p.base, "unavailable") >= 2 })
	if n := len(fake.Received("")); n != 0 {
		t.Fatalf("%d messages sent while the database was down", n)
	}
	my.start()
	waitFor(t, 60*time.Second, "the alert after the outage", func() bool {
		return len(messagesWith(fake, robots, "[FIRING:1] HighLatency")) == 2
	})
	time.Sleep(3 * time.Second) // two more group_interval ticks: a late retry must not send again
	for _, r := range robots {
		if n := len(fake.Received(r)); n != 1 {
			t.Errorf("robot %s got %d messages, want 1", r, n)
		}
	}
}
