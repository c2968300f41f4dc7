package main

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
)

// pageLatencies times n requests of a contacts page, one every gap, and returns them sorted.
func pageLatencies(t *testing.T, base string, n int, gap time.Duration) []time.Duration {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	out := make([]time.Duration, n)
	for i := range out {
		time.Sleep(gap)
		start := time.Now()
		resp, err := client.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ contacts(first: 20) { edges { node { id name } } } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("contacts page answered %d", resp.StatusCode)
		}
		out[i] = time.Since(start)
	}
	slices.Sort(out)
	return out
}

func p99(sorted []time.Duration) time.Duration { return sorted[len(sorted)*99/100] }

func TestIdleAndSlowClientsDoNotSlowTheAPI(t *testing.T) {
	if raceDetector {
		// Its figure is a latency, which the detector's instrumentation would make its own.
		t.Skip("a latency test: .ci/run runs it without -race")
	}
	const idle, slow, requests = 1000, 50, 300
	base, _, _ := startServerProcess(t, "HERALD_DATABASE="+modelstest.SQLite(t).URL)
	for i := range 20 {
		gql(t, base, `mutation($n: String!) { createContact(input: {name: $n, webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=x"}]}) { id } }`,
			map[string]any{"n": "contact " + string(rune('a'+i))}, nil)
	}
	alone := pageLatencies(t, base, requests, 0)
	u, _ := url.Parse(base)
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	// Idle keep-alive connections: each has made one request and now waits.
	for range idle {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatalf("after %d idle connections: %v", len(conns), err)
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	// Slow clients send their request one byte a second.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); wg.Wait() })
	for range slow {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		wg.Go(func() {
			req := "POST /query HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 1000)
			for i := range len(req) {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				if _, err := c.Write([]byte{req[i]}); err != nil {
					return // Herald closed it: its header timeout is what protects the others
				}
			}
		})
	}
	// Spread over 12 s, so that the slow clients are mid-request all along and Herald's 10 s header
	// timeout cuts them off while the page is being read.
	beside := pageLatencies(t, base, requests, 40*time.Millisecond)
	t.Logf("contacts page p50/p99: %s/%s alone, %s/%s beside %d idle and %d slow connections",
		alone[len(alone)/2].Round(time.Microsecond), p99(alone).Round(time.Microsecond),
		beside[len(beside)/2].Round(time.Microsecond), p99(beside).Round(time.Microsecond), idle, slow)
	if p99(beside) > 100*time.Millisecond {
		t.Fatalf("with idle and slow clients the contacts page's p99 is %s; want under 100 ms", p99(beside))
	}
}
