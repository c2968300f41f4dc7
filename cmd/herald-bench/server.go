package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildHerald builds the server binary from the repository root, as a user would.
func buildHerald(ctx context.Context, repo, dir string) (string, error) {
	bin := filepath.Join(dir, "herald")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build herald: %w\n%s", err, out)
	}
	return bin, nil
}

// heraldProcess is one running server.
type heraldProcess struct {
	cmd  *exec.Cmd
	Addr string
	URL  string // the GraphQL endpoint
	log  *os.File
	done chan error
	tail *tailBuffer
}

var listeningAddr = regexp.MustCompile(`"herald listening".*\baddr=(\S+)`)

// startHerald runs the binary with env (HERALD_* settings) on a random port and waits for its
// "herald listening" line on stderr. Everything it logs goes to logPath.
func startHerald(bin string, env []string, logPath string) (*heraldProcess, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start herald: %w", err)
	}
	p := &heraldProcess{cmd: cmd, log: logFile, done: make(chan error, 1), tail: &tailBuffer{max: 40}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			p.tail.add(line)
			if !found {
				if m := listeningAddr.FindStringSubmatch(line); m != nil {
					found = true
					addr <- m[1]
				}
			}
		}
		_, _ = io.Copy(logFile, stderr)
		p.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		p.Addr = a
		p.URL = "http://" + a + "/query"
		return p, nil
	case err := <-p.done:
		logFile.Close()
		return nil, fmt.Errorf("herald exited before listening (%v); last lines:\n%s", err, p.tail.String())
	case <-time.After(60 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("herald did not log \"herald listening\" within 60 s; last lines:\n%s", p.tail.String())
	}
}

// Pid is the server's process id.
func (p *heraldProcess) Pid() int { return p.cmd.Process.Pid }

// Stop asks the server to shut down and waits; after 20 s it kills it.
func (p *heraldProcess) Stop() error {
	defer p.log.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("herald exited with %v; last lines:\n%s", err, p.tail.String())
		}
		return err
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("herald did not stop within 20 s of SIGTERM and was killed")
	}
}

// memory reads VmHWM (peak resident set) and VmRSS of a process, in MiB.
func memory(pid int) (peak, now float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatusKB(string(b), "VmHWM") / 1024, parseStatusKB(string(b), "VmRSS") / 1024, nil
}

// parseStatusKB reads a "Key:   1234 kB" line of /proc/PID/status.
func parseStatusKB(status, key string) float64 {
	for line := range strings.SplitSeq(status, "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}

// tailBuffer keeps the last lines of the server's log for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailBuffer) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// loadAverage is the machine's 1-minute load average, or 0 when unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
