package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// client sends GraphQL requests to Herald and to the floor alike, always with the admin token.
type client struct {
	http  *http.Client
	token string
}

func newClient(token string) *client {
	return &client{
		token: token,
		http: &http.Client{
			Timeout:   2 * time.Minute,
			Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, DisableCompression: true},
		},
	}
}

// gqlRequest is the body of a GraphQL POST. The floor routes on OperationName.
type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

func (r gqlRequest) body() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // plain maps of strings, numbers and lists
	}
	return b
}

// post sends body with the admin token and reads the whole answer, which must be a 200, into buf.
func (c *client) post(ctx context.Context, url string, body []byte, buf *bytes.Buffer) error {
	return c.send(ctx, url, c.token, body, buf, http.StatusOK)
}

// send posts JSON with token and reads the whole answer, which must have status want, into buf.
func (c *client) send(ctx context.Context, url, token string, body []byte, buf *bytes.Buffer, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(buf.Bytes(), 300))
	}
	return nil
}

// call sends one request and decodes its data into out (when not nil); GraphQL errors are errors.
func (c *client) call(ctx context.Context, url string, r gqlRequest, out any) (int64, error) {
	var buf bytes.Buffer
	if err := c.post(ctx, url, r.body(), &buf); err != nil {
		return -1, fmt.Errorf("%s: %w", r.OperationName, err)
	}
	var resp struct {
		Data       json.RawMessage `json:"data"`
		Errors     []any           `json:"errors"`
		Extensions struct {
			SQLStatements *int64 `json:"sqlStatements"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(buf.Bytes(), &resp); err != nil {
		return -1, fmt.Errorf("%s: decode answer: %w", r.OperationName, err)
	}
	if len(resp.Errors) > 0 {
		return -1, fmt.Errorf("%s: GraphQL errors: %s", r.OperationName, clip(buf.Bytes(), 500))
	}
	n := int64(-1)
	if resp.Extensions.SQLStatements != nil {
		n = *resp.Extensions.SQLStatements
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return n, fmt.Errorf("%s: decode data: %w", r.OperationName, err)
		}
	}
	return n, nil
}

// inspect checks a raw answer cheaply, without decoding megabytes of data on a machine the server
// shares: errors come first in gqlgen's answers and extensions last.
func inspect(b []byte) (statements int64, err error) {
	head := bytes.TrimLeft(b, " \t\r\n")
	if bytes.HasPrefix(head, []byte(`{"errors"`)) {
		return -1, fmt.Errorf("GraphQL errors: %s", clip(b, 500))
	}
	if !bytes.HasPrefix(head, []byte(`{"data"`)) {
		return -1, fmt.Errorf("not a GraphQL answer: %s", clip(b, 300))
	}
	const key = `"sqlStatements":`
	i := bytes.LastIndex(b, []byte(key))
	if i < 0 {
		return -1, nil
	}
	rest := b[i+len(key):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, perr := strconv.ParseInt(string(rest[:j]), 10, 64)
	if perr != nil {
		return -1, fmt.Errorf("bad sqlStatements in %s", clip(rest, 40))
	}
	return n, nil
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// load is how long, or how many requests, one cell runs.
type load struct {
	Concurrency int
	Duration    time.Duration
	Requests    int // when > 0, a fixed number of requests instead of Duration
}

// cellRun is what one cell measured.
type cellRun struct {
	Latencies  []time.Duration
	Elapsed    time.Duration
	Errors     int
	FirstError string
	StmtMin    int64
	StmtMax    int64
	Bytes      int64 // response bytes of the successful requests
}

// runCell drives url with l.Concurrency workers, each sending body(i) for a shared request counter i.
func runCell(ctx context.Context, c *client, url string, l load, body func(i int64) []byte) cellRun {
	return runLoad(ctx, l, body, func(ctx context.Context, b []byte, buf *bytes.Buffer) (int64, error) {
		if err := c.post(ctx, url, b, buf); err != nil {
			return -1, err
		}
		return inspect(buf.Bytes())
	})
}

// exchange sends one request body, reading the answer into buf, and returns the answer's SQL
// statement count (-1 when it has none).
type exchange func(ctx context.Context, body []byte, buf *bytes.Buffer) (int64, error)

// runLoad runs l.Concurrency workers, each timing do with body(i) for a shared request counter i.
func runLoad(ctx context.Context, l load, body func(i int64) []byte, do exchange) cellRun {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		res      = cellRun{StmtMin: -1, StmtMax: -1}
		deadline = time.Now().Add(l.Duration)
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range l.Concurrency {
		wg.Go(func() {
			var buf bytes.Buffer
			var lat []time.Duration
			var bytesRead int64
			smin, smax := int64(-1), int64(-1)
			errs, first := 0, ""
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if l.Requests > 0 && i >= int64(l.Requests) {
					break
				}
				if l.Requests <= 0 && time.Now().After(deadline) {
					break
				}
				b := body(i)
				t0 := time.Now()
				n, err := do(ctx, b, &buf)
				d := time.Since(t0)
				if err != nil {
					if errors.Is(err, context.Canceled) {
						break
					}
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, d)
				bytesRead += int64(buf.Len())
				if n >= 0 {
					if smin < 0 || n < smin {
						smin = n
					}
					smax = max(smax, n)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.Latencies = append(res.Latencies, lat...)
			res.Errors += errs
			res.Bytes += bytesRead
			if res.FirstError == "" {
				res.FirstError = first
			}
			if smin >= 0 && (res.StmtMin < 0 || smin < res.StmtMin) {
				res.StmtMin = smin
			}
			res.StmtMax = max(res.StmtMax, smax)
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}
