package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// BenchmarkNestedPageQuery measures the console's heaviest read (100 contacts with webhooks and
// groups, each group with its count and first 10 members) over HTTP on MariaDB seeded with 10,000
// contacts in 200 groups, with the lean executor and with gqlgen's concurrent one.
//
//	go test -run '^$' -bench NestedPageQuery -benchtime 60x ./graph/
func BenchmarkNestedPageQuery(b *testing.B) {
	db, ok := modelstest.MySQL(b)
	if !ok {
		b.Skip("needs MariaDB at HERALD_TEST_MYSQL")
	}
	modelstest.Seed(b, db.Gorm, 10_000, 200)
	store := models.NewStore(db.Gorm, platforms.Registry.Recognize)
	notifier, err := notify.New(notify.Config{Platforms: platforms.Registry})
	if err != nil {
		b.Fatal(err)
	}
	api := graph.NewHandler(&graph.Resolver{Store: store, Outbox: delivery.NewOutbox(store, notifier), Notifier: notifier}, graph.Options{Introspection: true})
	for _, lean := range []bool{true, false} {
		executor := "lean"
		if !lean {
			executor = "concurrent"
		}
		b.Run(executor, func(b *testing.B) {
			graph.SetLean(lean)
			defer graph.SetLean(true)
			benchmarkRead(b, auth.New(store, benchToken, false), api, nestedPage)
		})
	}
}

// benchToken is the admin token the benchmarks' server takes, as herald-bench's does: no
// statement authenticates it.
const benchToken = "bench-admin-token"

// benchmarkRead posts query from 4 × GOMAXPROCS clients and reports statements per request,
// requests per second and p50/p99 latency.
func benchmarkRead(b *testing.B, authn *auth.Authenticator, api http.Handler, query string) {
	var statements sync.Map // one counter per request; all equal when the cost is constant
	// Counted inside authentication, whose namespace cache reads the database now and then.
	srv := httptest.NewServer(authn.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, n := models.WithStatementCounter(r.Context())
		api.ServeHTTP(w, r.WithContext(ctx))
		statements.Store(n.Load(), true)
	})))
	defer srv.Close()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"n": 100}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(4) // 4 × GOMAXPROCS concurrent clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+benchToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || bytes.Contains(answer, []byte(`"errors"`)) {
				b.Errorf("HTTP %d: %.300s", resp.StatusCode, answer)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	var counts []int64
	statements.Range(func(k, _ any) bool { counts = append(counts, k.(int64)); return true })
	if len(counts) != 1 {
		b.Fatalf("statement count varied between requests: %v", counts)
	}
	b.ReportMetric(float64(counts[0]), "sql/op")
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
