package main

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/models/modelstest"
)

// TestMain lets a test start this very binary as the real herald command, so that process-level
// behaviour (exit codes, signals, logs) is tested without a separate build step.
func TestMain(m *testing.M) {
	if os.Getenv("HERALD_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// send sends req, with token as its bearer token when not empty, and returns the status and body.
func send(t testing.TB, req *http.Request, token string) (int, string) {
	t.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// heraldCommand prepares this test binary to run as herald with the given environment.
func heraldCommand(t testing.TB, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "HERALD_TEST_RUN_MAIN=1")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func TestBadDatabaseSettingExitsWithOneLineNamingIt(t *testing.T) {
	for _, value := range []string{"postgres://admin:hunter2@db/herald", "herald.db", "mysql://:hunter2@/"} {
		raw, err := runToExit(t, heraldCommand(t, "HERALD_DATABASE="+value, "HERALD_ADDR=127.0.0.1:0"))
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() == 0 {
			t.Fatalf("%s: want a non-zero exit, got %v", value, err)
		}
		out := strings.TrimSpace(string(raw))
		if strings.Count(out, "\n") != 0 || !strings.Contains(out, "HERALD_DATABASE") || strings.Contains(out, "hunter2") {
			t.Fatalf("%s: want one line naming HERALD_DATABASE without the password, got %q", value, out)
		}
	}
}

func TestUnreachableMySQLNeverShowsThePassword(t *testing.T) {
	out, err := runToExit(t, heraldCommand(t, "HERALD_DATABASE=mysql://root:s3cr3t-pw@127.0.0.1:1/herald", "HERALD_ADDR=127.0.0.1:0"))
	if err == nil {
		t.Fatal("started without a database")
	}
	if strings.Contains(string(out), "s3cr3t-pw") || !strings.Contains(string(out), "127.0.0.1:1") {
		t.Fatalf("output: %s", out)
	}
}

// proc is a herald process started by a test.
type proc struct {
	base string
	// stop sends SIGTERM and requires a clean exit.
	stop func()
	cmd  *exec.Cmd
	logs *syncBuffer
}

// syncBuffer collects a process's log lines.
type syncBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *syncBuffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	b.mu.Unlock()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// runToExit runs a herald command that is expected to stop by itself, killing it after a minute so
// that a command that wrongly keeps serving fails the test instead of hanging it.
func runToExit(t testing.TB, cmd *exec.Cmd) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.Bytes(), err
}

// startServerProcess runs herald as a process and returns its base URL, a stop function that sends
// SIGTERM and requires a clean exit, and the process (a test may kill it instead). A running process
// is stopped at the end of the test at the latest.
func startServerProcess(t testing.TB, env ...string) (string, func(), *exec.Cmd) {
	t.Helper()
	p := launch(t, env...)
	return p.base, p.stop, p.cmd
}

func launch(t testing.TB, env ...string) *proc {
	t.Helper()
	cmd := heraldCommand(t, append([]string{"HERALD_ADDR=127.0.0.1:0"}, env...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrRe := regexp.MustCompile(`"herald listening"? addr=(\S+)|"msg":"herald listening","addr":"([^"]+)"`)
	found := make(chan string, 1)
	logs := &syncBuffer{}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logs.add(sc.Text())
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1] + m[2]
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if cmd.ProcessState != nil {
				return // killed and reaped by the test
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("herald did not exit cleanly on SIGTERM: %v\n%s", err, logs)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Error("herald did not exit within 30 s of SIGTERM")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr := <-found:
		return &proc{base: "http://" + addr, stop: stop, cmd: cmd, logs: logs}
	case <-closed:
		t.Fatalf("herald exited before it listened:\n%s", logs)
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("herald did not start:\n%s", logs)
		return nil
	}
}

func TestServerEndpointsOnEachDatabase(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		base, _, _ := startServerProcess(t, "HERALD_DATABASE="+db.URL)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(path string) (*http.Response, string) {
			resp, err := client.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		if resp, _ := get("/healthz"); resp.StatusCode != 200 {
			t.Fatalf("/healthz = %d", resp.StatusCode)
		}
		if resp, _ := get("/readyz"); resp.StatusCode != 200 {
			t.Fatalf("/readyz = %d", resp.StatusCode)
		}
		if resp, body := get("/"); resp.StatusCode != 200 || !strings.Contains(body, "Notification Manage") {
			t.Fatalf("/ = %d", resp.StatusCode)
		}
		if resp, body := get("/playground"); resp.StatusCode != 200 || !strings.Contains(body, "/console/vendor/graphiql.min.js") {
			t.Fatalf("/playground = %d", resp.StatusCode)
		}
		resp, err := client.Post(base+"/query", "application/json", strings.NewReader(
			`{"query":"mutation { createContactGroup(input: {name: \"Ops\"}) { id } }"}`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST /query: %v %v", err, resp)
		}
		resp.Body.Close()
		if resp, body := get("/query?query=%7Bgroups%7BtotalCount%7D%7D"); resp.StatusCode != 200 || !strings.Contains(body, `"totalCount":1`) {
			t.Fatalf("GET /query = %d %s", resp.StatusCode, body)
		}
		_, metrics := get("/metrics")
		for _, want := range []string{
			`herald_graphql_requests_total{namespace="default",operation="createContactGroup",outcome="ok"} 1`,
			`herald_graphql_requests_total{namespace="default",operation="groups",outcome="ok"} 1`,
			`herald_delivery_queue_depth 0`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}

func TestReadyzFailsWhileTheDatabaseIsDown(t *testing.T) {
	db := modelstest.SQLite(t)
	srv := httptest.NewServer(testMux(db, "", true, securityConfig{}))
	defer srv.Close()
	sqlDB, _ := db.Gorm.DB()
	sqlDB.Close()
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	if resp, _ := http.Get(srv.URL + "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
}

func TestRestartKeepsDataAndMigratesAgain(t *testing.T) {
	path := t.TempDir() + "/herald.db"
	for round := range 2 {
		base, stop, _ := startServerProcess(t, "HERALD_DATABASE=sqlite://"+path)
		resp, err := http.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ groups { totalCount } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := []string{`"totalCount":0`, `"totalCount":1`}[round]; !strings.Contains(string(body), want) {
			t.Fatalf("round %d: %s", round, body)
		}
		if round == 0 {
			resp, _ := http.Post(base+"/query", "application/json", strings.NewReader(`{"query":"mutation { createContactGroup(input: {name: \"Kept\"}) { id } }"}`))
			resp.Body.Close()
		}
		stop()
	}
}

func TestTuneGCKeepsWhatTheEnvironmentSets(t *testing.T) {
	gcPercent := debug.SetGCPercent(100)
	memoryLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(memoryLimit)
	})
	unset := func(string) (string, bool) { return "", false }
	tuneGC(unset)
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent = %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("memory limit = %d, want %d", got, defaultMemoryLimit)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	set := func(string) (string, bool) { return "set", true }
	tuneGC(set)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, GC percent = %d, want it untouched (100)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, memory limit = %d, want it untouched", got)
	}
}
