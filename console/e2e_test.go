package console_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// chromium is Debian's browser; the suite drives it through playwright-core and never downloads one.
const chromium = "/usr/bin/chromium"

// TestConsoleInRealBrowser builds Herald, starts it with --demo (in-memory database, fake robots
// that accept every message) and runs the Node suite in ../e2e against it in headless Chromium.
// Without node, Chromium or e2e/node_modules it skips, unless HERALD_E2E_REQUIRED=1 (CI).
func TestConsoleInRealBrowser(t *testing.T) {
	e2eDir, err := filepath.Abs("../e2e")
	if err != nil {
		t.Fatal(err)
	}
	node, missing := e2eTools(e2eDir)
	if missing != "" {
		if os.Getenv("HERALD_E2E_REQUIRED") == "1" {
			t.Fatalf("HERALD_E2E_REQUIRED=1 but %s", missing)
		}
		t.Skipf("%s (set HERALD_E2E_REQUIRED=1 to make this a failure)", missing)
	}

	// The suite runs the console against a Herald that runs only trusted documents, for every
	// caller: the console's own (always trusted) and the suite's fixtures (e2e/documents.js). The
	// playground, which is free-form by nature, gets a Herald of its own.
	fixtures, err := os.ReadFile(filepath.Join(e2eDir, "documents.js"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := console.ParseDocuments(fixtures)
	if err != nil {
		t.Fatalf("e2e/documents.js: %v", err)
	}
	list, _ := console.DocumentsJSON(docs)
	trusted := filepath.Join(t.TempDir(), "e2e-documents.json")
	if err := os.WriteFile(trusted, list, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildHerald(t)
	base := startHerald(t, bin, "HERALD_TRUSTED_DOCUMENTS="+trusted, "HERALD_TRUSTED_DOCUMENTS_STRICT=true")
	playground := startHerald(t, bin)
	resp, err := http.Get(base + "/console/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Herald answers GET /console/app.js with %s: mount console.Handler() in server.go", resp.Status)
	}

	robot, control := refusingRobot(t)

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// HERALD_E2E_FILES narrows the suite to some files while one works on them.
	cmd := exec.CommandContext(ctx, node, append([]string{"--test"}, strings.Fields(os.Getenv("HERALD_E2E_FILES"))...)...)
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), "HERALD_URL="+base, "HERALD_PLAYGROUND_URL="+playground, "CHROMIUM_PATH="+chromium,
		"HERALD_E2E_REFUSING_ROBOT="+robot, "HERALD_E2E_ROBOT_CONTROL="+control)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test in %s: %v (screenshots in e2e/screenshots)\n%s", e2eDir, err, out)
	}
	t.Logf("node --test:\n%s", out)
}

// refusingRobot is a DingTalk robot whose keyword security refuses Herald's messages for good
// (errcode 310000) until the suite fixes it with POST control/fix, as a person would by changing
// the robot's keyword: the retry scenario's failed delivery, then SENT. It returns the robot's
// webhook URL and the control URL.
func refusingRobot(t *testing.T) (string, string) {
	fake := fakeplatform.New()
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	robot := fakeplatform.Robot{Platform: senders.DingTalk, Token: "e2e-refusing", Keywords: []string{"Maintenance"}}
	url := fake.AddRobot(robot)
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fix":
			fixed := robot
			fixed.Keywords = []string{"SchedulerX"}
			fake.AddRobot(fixed)
		case "/break":
			fake.AddRobot(robot)
		default:
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(control.Close)
	return url, control.URL
}

// e2eTools finds node and says what is missing to run the suite, if anything.
func e2eTools(e2eDir string) (node, missing string) {
	node, err := exec.LookPath("node")
	switch {
	case err != nil:
		return "", "node is not installed"
	case !isFile(chromium):
		return "", chromium + " is missing (apt-get install chromium)"
	case !isFile(filepath.Join(e2eDir, "node_modules", "playwright-core", "package.json")):
		return "", "e2e/node_modules is not installed (cd e2e && npm ci)"
	}
	return node, ""
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

// listening matches Herald's start-up line: level=INFO msg="herald listening" addr=127.0.0.1:PORT …
var listening = regexp.MustCompile(`msg="herald listening" addr=(\S+)`)

// buildHerald builds the module's command into a temporary directory.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startHerald runs bin with --demo on a free port and the extra environment, and returns its base
// URL; it is stopped with SIGTERM when the test ends.
func startHerald(t *testing.T, bin string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bin, "--demo", "-addr", "127.0.0.1:0")
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "HERALD_LOG_FORMAT=text"), env...) // the line parsed below is the text format
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &strings.Builder{}
	found := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			logs.WriteString(scanner.Text() + "\n")
			if m := listening.FindStringSubmatch(scanner.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		// Read the log to its end before Wait closes the pipe.
		select {
		case <-scanned:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-scanned
		}
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("herald's log:\n%s", logs.String())
		}
	})
	select {
	case addr := <-found:
		return "http://" + addr
	case <-scanned:
		t.Fatal("herald exited before it was listening")
	case <-time.After(60 * time.Second):
		t.Fatal("herald did not log \"herald listening\" within 60 s")
	}
	return ""
}
