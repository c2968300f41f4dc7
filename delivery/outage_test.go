package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAnOutageIsLoggedOnceDespiteOverlappingCalls: calls that overlap the moment the database dies
// or comes back report out of order, and old news changes nothing.
func TestAnOutageIsLoggedOnceDespiteOverlappingCalls(t *testing.T) {
	var logs bytes.Buffer
	o := &outage{log: slog.New(slog.NewTextHandler(&logs, nil))}
	refused := fmt.Errorf("poll: %w", syscall.ECONNREFUSED)
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	o.answered(at(0))                   // no outage: nothing to end
	if !o.failed("b", at(2), refused) { // the database dies under b
		t.Fatal("a refused connection is not an outage")
	}
	o.answered(at(1))             // a, started before b, reads its answer late
	o.failed("c", at(3), refused) // still down
	o.answered(at(10))            // back
	o.failed("d", at(9), refused) // d's dead connection, from before the return, reports late
	o.answered(at(11))
	if o.failed("e", at(12), fmt.Errorf("constraint: %w", errNotAnOutage)) {
		t.Fatal("an error of the statement is not an outage")
	}

	if n, m := strings.Count(logs.String(), "database unreachable"), strings.Count(logs.String(), "database reachable again"); n != 1 || m != 1 {
		t.Fatalf("logged the outage %d times and its end %d times, want once each:\n%s", n, m, logs.String())
	}
	if !o.endedWithin(time.Minute) {
		t.Fatal("the outage did not end")
	}

	// A later outage is a new one.
	o.failed("f", at(20), refused)
	o.answered(at(21))
	if n := strings.Count(logs.String(), "database unreachable"); n != 2 {
		t.Fatalf("a second outage was logged %d times in all, want 2:\n%s", n, logs.String())
	}
}

var errNotAnOutage = errors.New("duplicate key")
