package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// privateMariaDB is a MariaDB server of the test's own (its own data directory and port), so that
// the test may kill it without touching the shared one.
type privateMariaDB struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
}

// startPrivateMariaDB installs a fresh data directory and starts mariadbd on a free loopback port.
// Without the server binaries the test is skipped, unless HERALD_TEST_MYSQL_REQUIRED=1 (CI).
func startPrivateMariaDB(t *testing.T) *privateMariaDB {
	t.Helper()
	for _, bin := range []string{"/usr/sbin/mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("HERALD_TEST_MYSQL_REQUIRED") == "1" {
				t.Fatalf("%s is needed for the database outage tests: %v", bin, err)
			}
			t.Skipf("no %s: the outage tests need a private MariaDB", bin)
		}
	}
	dir, err := os.MkdirTemp("", "herald-mariadb-") // short: the socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	install := exec.Command("mariadb-install-db", "--no-defaults", "--user=root", "--datadir="+filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m := &privateMariaDB{t: t, dir: dir, port: freePortBelowEphemeral(t)}
	t.Cleanup(m.kill)
	m.start()
	db, err := sql.Open("mysql", m.dsn(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE herald CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *privateMariaDB) dsn(database string) string {
	cfg := gomysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", fmt.Sprintf("127.0.0.1:%d", m.port), database
	return cfg.FormatDSN()
}

// url is the HERALD_DATABASE value of the private server's herald database.
func (m *privateMariaDB) url() string {
	return fmt.Sprintf("mysql://root@127.0.0.1:%d/herald", m.port)
}

// freePortBelowEphemeral picks a free port below Linux's ephemeral range, so that while the
// server is down no connection another test opens can be given its port.
func freePortBelowEphemeral(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(10000)
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port in 20000-29999")
	return 0
}

// start runs mariadbd and waits until it answers. The server dies with the test process.
func (m *privateMariaDB) start() {
	m.t.Helper()
	m.cmd = exec.Command("/usr/sbin/mariadbd", "--no-defaults", "--user=root", "--datadir="+filepath.Join(m.dir, "data"),
		"--port="+fmt.Sprint(m.port), "--bind-address=127.0.0.1", "--socket="+filepath.Join(m.dir, "sock"),
		"--pid-file="+filepath.Join(m.dir, "pid"), "--skip-log-bin", "--innodb-buffer-pool-size=64M")
	logPath := filepath.Join(m.dir, "mariadbd.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		m.t.Fatal(err)
	}
	defer logFile.Close()
	m.cmd.Stdout, m.cmd.Stderr = logFile, logFile
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	db, _ := sql.Open("mysql", m.dsn(""))
	defer db.Close()
	for deadline := time.Now().Add(60 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := os.ReadFile(logPath)
			m.t.Fatalf("private mariadbd did not answer within 60 s: %v\n%s", err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the server as a crash would: SIGKILL, no shutdown.
func (m *privateMariaDB) kill() {
	if m.cmd == nil || m.cmd.Process == nil || m.cmd.ProcessState != nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	_ = m.cmd.Wait()
}

// readyz answers /readyz's status code, or 0 when Herald does not answer.
func readyz(base string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls /readyz until it answers want and returns how long that took.
func waitStatus(t *testing.T, base string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for readyz(base) != want {
		if time.Since(start) > limit {
			t.Fatalf("/readyz did not answer %d within %s", want, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// outageEnv is Herald's environment in the outage tests: loopback robots, a short lease and poll.
func outageEnv(my *privateMariaDB) []string {
	return []string{"HERALD_DATABASE=" + my.url(), "HERALD_WEBHOOK_ALLOWED_HOSTS=127.0.0.1", "HERALD_SECRET_KEY=" + testSecretKey,
		"HERALD_WEBHOOK_TIMEOUT=2s", "HERALD_DELIVERY_LEASE=3s", "HERALD_DELIVERY_POLL=200ms",
		fmt.Sprintf("HERALD_DELIVERY_WORKERS=%d", outageWorkers)}
}

const outageRobots, outageWorkers = 150, 16

// fanOutThenKillDatabase starts Herald on a private MariaDB, sends one alert to 150 robots that take
// 120 ms each, and kills the database once the first sends are done. It returns what was sent by
// then.
func fanOutThenKillDatabase(t *testing.T, my *privateMariaDB, fake *fakeplatform.Server) (p *proc, alert string, tokens []string, atKill int) {
	t.Helper()
	p = launch(t, outageEnv(my)...)
	group, tokens := robotFleet(t, p.base, fake, outageRobots)
	alert = sendToGroup(t, p.base, group, "outage test")
	waitReceived(t, fake, outageWorkers)
	my.kill()
	atKill = len(fake.Received(""))
	if atKill >= outageRobots {
		t.Fatalf("all %d deliveries were sent before the database died; the test proves nothing", atKill)
	}
	return p, alert, tokens, atKill
}

func TestDatabaseOutageMidFanOutSendsNoDuplicate(t *testing.T) {
	for _, down := range []time.Duration{10 * time.Second, 60 * time.Second} {
		t.Run(down.String(), func(t *testing.T) { databaseOutage(t, down) })
	}
}

func databaseOutage(t *testing.T, down time.Duration) {
	my := startPrivateMariaDB(t)
	fake := startFake(t, 120*time.Millisecond)
	p, alert, tokens, atKill := fanOutThenKillDatabase(t, my, fake)
	killedAt := time.Now()
	notReady := waitStatus(t, p.base, http.StatusServiceUnavailable, 5*time.Second)

	// While the database is away, an API call fails fast with a code a client can act on.
	start := time.Now()
	body, _ := json.Marshal(map[string]any{"query": `{ contacts(first: 1) { totalCount } }`})
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(p.base+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	took := time.Since(start)
	if len(answer.Errors) == 0 || answer.Errors[0].Extensions.Code != "SERVICE_UNAVAILABLE" || took > 5*time.Second ||
		strings.Contains(answer.Errors[0].Message, "127.0.0.1") {
		t.Fatalf("a query during the outage answered %+v after %s; want SERVICE_UNAVAILABLE within 5 s, no address", answer.Errors, took)
	}

	time.Sleep(time.Until(killedAt.Add(down)))
	sentWhileDown := len(fake.Received("")) - atKill
	my.start()
	back := time.Now()
	ready := waitStatus(t, p.base, http.StatusOK, 5*time.Second)
	for before := len(fake.Received("")); len(fake.Received("")) == before; {
		if time.Since(back) > 30*time.Second {
			t.Fatal("delivery did not resume within 30 s of the database answering")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resumed := time.Since(back)
	if status := waitForAlert(t, p.base, alert, 60*time.Second); status != "DELIVERED" {
		t.Fatalf("after the outage the alert is %s", status)
	}
	finished := time.Since(back)
	duplicates := duplicatesOf(t, fake, tokens)
	t.Logf("database killed after %d of %d sends (%d more finished while it was down for %s); /readyz 503 after %s, "+
		"200 %s after restart; delivery resumed %s after restart, all delivered %s after; %d duplicates",
		atKill, outageRobots, sentWhileDown, down, notReady.Round(time.Millisecond), ready.Round(time.Millisecond),
		resumed.Round(time.Millisecond), finished.Round(time.Millisecond), duplicates)
	if duplicates != 0 {
		t.Errorf("%d robots got the alert twice; an outage must cause no duplicate", duplicates)
	}
	if resumed > 2*time.Second {
		t.Errorf("delivery resumed %s after the database answered; want within 2 s", resumed)
	}
	logs := p.logs.String()
	if n, m := strings.Count(logs, "database unreachable"), strings.Count(logs, "database reachable again"); n != 1 || m != 1 {
		var lines []string
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "database unreachable") || strings.Contains(line, "database reachable again") {
				lines = append(lines, line)
			}
		}
		t.Errorf("the outage was logged %d times and its end %d times; want once each:\n%s", n, m, strings.Join(lines, "\n"))
	}
}

func TestHeraldKilledDuringADatabaseOutageLosesNothing(t *testing.T) {
	my := startPrivateMariaDB(t)
	fake := startFake(t, 120*time.Millisecond)
	p, alert, tokens, _ := fanOutThenKillDatabase(t, my, fake)
	time.Sleep(time.Second) // the finished sends are held, waiting for the database
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	my.start()
	p = launch(t, outageEnv(my)...)
	if status := waitForAlert(t, p.base, alert, 60*time.Second); status != "DELIVERED" {
		t.Fatalf("after the restart the alert is %s", status)
	}
	duplicates := duplicatesOf(t, fake, tokens)
	t.Logf("%d duplicates after Herald was killed with results held (at most %d were in flight)", duplicates, outageWorkers)
	if duplicates > outageWorkers {
		t.Fatalf("%d duplicates, more than the %d sends that can be in flight", duplicates, outageWorkers)
	}
}

func TestAnOutageDoesNotLetOneReplicaTakeOverAnothersWork(t *testing.T) {
	my := startPrivateMariaDB(t)
	fake := startFake(t, 120*time.Millisecond)
	// Two replicas share the database. B has workers to spare, so once the database answers again
	// it polls at once and finds A's claims, whose leases ran out during the outage.
	a := launch(t, outageEnv(my)...)
	launch(t, append(outageEnv(my), "HERALD_DELIVERY_WORKERS=400")...) // B
	group, tokens := robotFleet(t, a.base, fake, outageRobots)
	alert := sendToGroup(t, a.base, group, "two replicas")
	waitReceived(t, fake, outageWorkers)
	my.kill()
	time.Sleep(10 * time.Second) // three leases: every claim has run out by the database's clock
	my.start()
	if status := waitForAlert(t, a.base, alert, 60*time.Second); status != "DELIVERED" {
		t.Fatalf("after the outage the alert is %s", status)
	}
	duplicates := duplicatesOf(t, fake, tokens)
	t.Logf("two replicas through a 10 s outage: %d duplicates", duplicates)
	if duplicates != 0 {
		t.Errorf("%d robots got the alert twice: a replica took over work another still held", duplicates)
	}
}
