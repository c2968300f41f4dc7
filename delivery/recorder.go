package delivery

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// recorder groups results that complete close together into one recording transaction. While one
// transaction is being written, the results that arrive wait and are then written together: a lone
// result is written at once, and under load each transaction carries all that came meanwhile, so a
// fan-out costs a few commits instead of one per robot. One transaction at a time also keeps the
// recorder from competing with itself for locks.
type recorder struct {
	d    *Dispatcher
	in   chan recording
	done chan struct{}
	// waiting counts results handed over and not yet recorded.
	waiting atomic.Int64
	// abandon is closed when the dispatcher stops and its grace is over: results held through an
	// outage are given up (their deliveries come back when their lease ends).
	abandon     chan struct{}
	abandonOnce sync.Once
}

// recording is a result and the channel closed once it is recorded.
type recording struct {
	r   *result
	ack chan struct{}
}

// maxGroup bounds the results in one recording transaction (claimRows bounds their deliveries).
const maxGroup = 200

// startRecorder runs a recorder until stop. Recording outlives the dispatcher's context: a stop
// must not lose results of sends already made.
func (d *Dispatcher) startRecorder(ctx context.Context) *recorder {
	rec := &recorder{d: d, in: make(chan recording, d.cfg.Workers), done: make(chan struct{}), abandon: make(chan struct{})}
	go rec.run(ctx)
	return rec
}

// record stores r and returns once it is committed (or failed); r's fates and err say how it went.
func (rec *recorder) record(r *result) {
	ack := make(chan struct{})
	rec.waiting.Add(1)
	rec.in <- recording{r: r, ack: ack}
	<-ack
}

// busy reports whether results are waiting to be recorded: their workers are about to be free.
func (rec *recorder) busy() bool { return rec.waiting.Load() > 0 }

// giveUp stops holding results through an outage.
func (rec *recorder) giveUp() { rec.abandonOnce.Do(func() { close(rec.abandon) }) }

// hold records a group, keeping it through a database outage: a send that was made is recorded
// when the database answers again, fenced by its claim token as always, instead of being made a
// second time once its lease has run out. Its worker waits meanwhile, so this dispatcher claims
// nothing more for the robot. It gives up after HoldResults, or when giveUp is called.
func (rec *recorder) hold(ctx context.Context, rs []*result) {
	start := time.Now()
	wait := 50 * time.Millisecond
	for {
		attempt := time.Now()
		err := rec.d.recordResults(ctx, rs)
		if err == nil {
			rec.d.outage.answered(attempt)
			return
		}
		if !rec.d.outage.failed("recording results", attempt, err) || time.Since(start) >= rec.d.cfg.HoldResults {
			return
		}
		select {
		case <-time.After(wait):
		case <-rec.abandon:
			return
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// stop ends the recorder once every result handed to it is recorded. Nobody may call record after.
func (rec *recorder) stop() {
	close(rec.in)
	<-rec.done
}

func (rec *recorder) run(ctx context.Context) {
	defer close(rec.done)
	for first := range rec.in {
		group := []recording{first}
		rows := len(first.r.b.items)
	fill:
		for len(group) < maxGroup && rows < claimRows {
			select {
			case next, ok := <-rec.in:
				if !ok {
					break fill
				}
				group = append(group, next)
				rows += len(next.r.b.items)
			default:
				break fill
			}
		}
		rs := make([]*result, len(group))
		for i, g := range group {
			rs[i] = g.r
		}
		rec.hold(ctx, rs)
		rec.waiting.Add(-int64(len(group)))
		for _, g := range group {
			close(g.ack)
		}
	}
}
