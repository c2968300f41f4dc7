package main

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
)

// peakRSS is a process's VmHWM in MiB, from /proc.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// timedPost posts one GraphQL operation and returns how long it took, or an error for any failure.
func timedPost(client *http.Client, base, query string, vars map[string]any) (time.Duration, error) {
	start := time.Now()
	err := postGraphQL(client, base, query, vars, nil)
	return time.Since(start), err
}

func TestAFloodOfAlertsIsDeliveredWithinBudgetsWhileTheAPIStaysResponsive(t *testing.T) {
	if raceDetector {
		// Herald would run instrumented, and its memory and latency would be the detector's.
		t.Skip("a load test: .ci/run runs it without -race")
	}
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("needs MariaDB at HERALD_TEST_MYSQL")
	}
	const robots, alerts, senders = 100, 10_000, 8
	fake := startFake(t, 20*time.Millisecond) // the platforms' real rate limits apply
	p := launch(t, "HERALD_DATABASE="+db.URL, "HERALD_SECRET_KEY="+testSecretKey, "HERALD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1")
	_, tokens := robotFleet(t, p.base, fake, robots)
	client := &http.Client{Timeout: 30 * time.Second}

	// A reader browses contacts throughout the flood and its drain.
	stopReading := make(chan struct{})
	var reads []time.Duration
	var readErr error
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stopReading:
				return
			case <-time.After(50 * time.Millisecond):
			}
			d, err := timedPost(client, p.base, `{ contacts(first: 20) { edges { node { id name webhooks { url } } } } }`, nil)
			if err != nil {
				readErr = err
				return
			}
			reads = append(reads, d)
		}
	})

	start := time.Now()
	sends := make([][]time.Duration, senders)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < alerts; i += senders {
				d, err := timedPost(client, p.base, `mutation($c: [String!], $t: String!) { sendAlert(input: {title: $t, content: "flood", contactNames: $c}) { id } }`,
					map[string]any{"c": []string{tokens[i%robots]}, "t": fmt.Sprintf("flood %05d", i)})
				if err != nil {
					errs[w] = err
					return
				}
				sends[w] = append(sends[w], d)
			}
		})
	}
	wg.Wait()
	accepted := time.Since(start)
	for _, err := range errs {
		if err != nil {
			t.Fatalf("sendAlert during the flood: %v", err)
		}
	}
	var pending struct{ Alerts struct{ TotalCount int } }
	for deadline := time.Now().Add(5 * time.Minute); ; {
		gql(t, p.base, `{ alerts(status: PENDING) { totalCount } }`, nil, &pending)
		if pending.Alerts.TotalCount == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d alerts still pending 5 minutes after the flood", pending.Alerts.TotalCount)
		}
		time.Sleep(500 * time.Millisecond)
	}
	drained := time.Since(start)
	close(stopReading)
	readers.Wait()
	if readErr != nil {
		t.Fatalf("a contacts page during the flood: %v", readErr)
	}
	var delivered struct{ Alerts struct{ TotalCount int } }
	gql(t, p.base, `{ alerts(status: DELIVERED) { totalCount } }`, nil, &delivered)
	var all []time.Duration
	for _, s := range sends {
		all = append(all, s...)
	}
	slices.Sort(all)
	slices.Sort(reads)
	messages, rejected := len(fake.Received("")), fake.Rejected("")
	rss := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("%d alerts to %d robots accepted in %s (sendAlert p50 %s, p99 %s), all final after %s: %d delivered in %d messages, "+
		"rejections %v; contacts page p50 %s, p99 %s over %d reads; Herald's peak RSS %d MiB",
		alerts, robots, accepted.Round(time.Millisecond), all[len(all)/2].Round(time.Microsecond), p99(all).Round(time.Microsecond),
		drained.Round(time.Millisecond), delivered.Alerts.TotalCount, messages, rejected,
		reads[len(reads)/2].Round(time.Microsecond), p99(reads).Round(time.Microsecond), len(reads), rss)
	if delivered.Alerts.TotalCount != alerts {
		t.Errorf("%d of %d alerts delivered", delivered.Alerts.TotalCount, alerts)
	}
	if len(rejected) > 0 {
		t.Errorf("the platforms refused messages: %v; Herald must stay within every robot's budget", rejected)
	}
	if p99(reads) > 100*time.Millisecond {
		t.Errorf("the contacts page's p99 during the flood was %s; want under 100 ms", p99(reads))
	}
	if rss > 200 {
		t.Errorf("Herald's peak RSS was %d MiB; want under 200", rss)
	}
}
