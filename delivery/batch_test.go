package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
)

// fleet creates n robots of platform p, one contact each, all in one group, and returns the group.
func (e *env) fleet(name string, n int, p senders.Platform) string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range n {
		_, u := e.robot(p)
		ids[i] = e.contact(fmt.Sprintf("%s-%03d", name, i), "", u)
	}
	g, err := e.store.CreateGroup(context.Background(), models.GroupInput{Name: &name, ContactIDs: ids})
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(g.ID)
}

func robotHashes(ds []*Delivery) []string {
	hs := make([]string, len(ds))
	for i, d := range ds {
		hs[i] = d.RobotKey
	}
	return hs
}

func TestBatchClaimTakesEachRobotsOldestDeliveriesUpToBatchSize(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, busy := e.robot(senders.DingTalk)
		_, quiet := e.robot(senders.WeCom)
		e.contact("busy", "", busy)
		e.contact("both", "", busy, quiet)
		var alerts []*Alert
		alerts = append(alerts, e.alert(AlertInput{Title: "first", Recipients: models.RecipientQuery{ContactNames: []string{"busy"}}}))
		alerts = append(alerts, e.alert(AlertInput{Title: "second", Recipients: models.RecipientQuery{ContactNames: []string{"both"}}}))
		alerts = append(alerts, e.alert(AlertInput{Title: "third", Recipients: models.RecipientQuery{ContactNames: []string{"busy"}}}))
		byRobot := map[string][]uint{}
		for _, a := range alerts {
			for _, d := range e.deliveries(a.ID) {
				byRobot[d.RobotKey] = append(byRobot[d.RobotKey], d.ID)
			}
		}
		cfg := fastConfig()
		cfg.BatchSize = 2
		d := New(e.store, e.notifier, cfg)
		var keys []string
		for h := range byRobot {
			keys = append(keys, h)
		}
		claims, held, err := d.claimRobots(context.Background(), keys)
		if err != nil || len(held) != 0 || len(claims) != 2 {
			t.Fatalf("claim = %d claims, %v held, %v; want both robots", len(claims), held, err)
		}
		if claims[0].token != claims[1].token {
			t.Error("one claim transaction handed out two tokens")
		}
		for _, c := range claims {
			var got []uint
			for _, b := range c.batches {
				for _, it := range b.items {
					got = append(got, it.d.ID)
				}
			}
			want := byRobot[c.key][:min(2, len(byRobot[c.key]))]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("robot with deliveries %v: claimed %v, want the oldest %v", byRobot[c.key], got, want)
			}
			if c.more != (len(byRobot[c.key]) > 1) {
				t.Errorf("robot with %d due: more = %v", len(byRobot[c.key]), c.more)
			}
			for _, b := range c.batches {
				if len(b.sendIDs) != b.sends || b.sends == 0 {
					t.Error("a message has no reserved send")
				}
			}
		}
		if n := e.countWhere(e.db.Gorm, &RobotSend{}, "settled = ?", false); n != 3 {
			t.Errorf("%d sends reserved, want one per message (3)", n)
		}
	})
}

func TestBatchClaimsNeverGiveOneRobotToTwoReplicasAndKeepItsBudget(t *testing.T) {
	e, other := replicaEnv(t)
	const robots = 40
	group := e.fleet("fleet", robots, senders.WeCom)
	var keys []string
	for i := range 3 {
		a := e.alert(AlertInput{Title: fmt.Sprintf("alert %d", i), Recipients: models.RecipientQuery{GroupIDs: []string{group}}})
		keys = robotHashes(e.deliveries(a.ID))
	}
	cfg := fastConfig()
	cfg.BatchSize = 1
	cfg.Budgets = map[senders.Platform][]senders.Window{senders.WeCom: {{Limit: 2, Span: time.Minute}}}
	replicas := []*Dispatcher{New(e.store, e.notifier, cfg), New(e.storeOn(other), e.notifier, cfg)}

	leased := map[uint]int{}
	messages := map[string]int{}
	for round := 0; ; round++ {
		if round == 20 {
			t.Fatal("still claiming after 20 rounds")
		}
		got := make([][]*claim, len(replicas))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, d := range replicas {
			wg.Go(func() {
				<-start
				var err error
				if got[i], _, err = d.claimRobots(context.Background(), keys); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		owner := map[string]int{}
		work := 0
		for i, claims := range got {
			for _, c := range claims {
				if !c.work() {
					continue
				}
				work++
				if j, ok := owner[c.key]; ok {
					t.Fatalf("round %d: replicas %d and %d both claimed robot %s", round, j, i, c.key)
				}
				owner[c.key] = i
				messages[c.key] += len(c.batches)
				for _, b := range c.batches {
					for _, it := range b.items {
						leased[it.d.ID]++
					}
				}
			}
		}
		if work == 0 {
			break
		}
	}
	for id, n := range leased {
		if n != 1 {
			t.Errorf("delivery %d leased %d times", id, n)
		}
	}
	for _, h := range keys {
		if messages[h] != 2 {
			t.Errorf("robot %s: %d messages claimed across replicas within a minute, want its budget of 2", h, messages[h])
		}
	}
}

func TestGroupedRecordsStillFenceAStaleClaim(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		group := e.fleet("pair", 2, senders.DingTalk)
		a := e.alert(AlertInput{Recipients: models.RecipientQuery{GroupIDs: []string{group}}})
		ds := e.deliveries(a.ID)
		cfg := fastConfig()
		cfg.Lease = 200 * time.Millisecond
		stale, fresh := New(e.store, e.notifier, cfg), New(e.store, e.notifier, cfg)
		ctx := context.Background()
		old, _, err := stale.claimRobots(ctx, robotHashes(ds))
		if err != nil || len(old) != 2 {
			t.Fatalf("stale claim = %d claims, %v", len(old), err)
		}
		time.Sleep(cfg.Lease + 50*time.Millisecond)
		// Only the first robot is claimed again; the second's lease ran out, but nobody took it over.
		taken := claimOne(t, fresh, old[0].key)
		if taken == nil || len(taken.batches) != 1 {
			t.Fatalf("claim after the lease ran out = %+v", taken)
		}
		staleTaken, staleKept, current := sentResult(old[0], old[0].batches[0]), sentResult(old[1], old[1].batches[0]), sentResult(taken, taken.batches[0])
		// One recording transaction carries the stale and the current result for the same delivery.
		fresh.recordResults(ctx, []*result{staleTaken, staleKept, current})
		if !errors.Is(staleTaken.err, errLeaseLost) || len(staleTaken.fates) != 0 {
			t.Errorf("stale result for a delivery claimed again: %v, fates %v; want errLeaseLost", staleTaken.err, staleTaken.fates)
		}
		if staleKept.err != nil || current.err != nil {
			t.Errorf("results of claims still held: %v, %v", staleKept.err, current.err)
		}
		for _, d := range e.deliveries(a.ID) {
			if d.Status != DeliverySent || d.Attempts != 1 || d.ClaimToken != nil {
				t.Errorf("delivery %d: %s after %d attempts, token %v; want SENT once, token cleared", d.ID, d.Status, d.Attempts, d.ClaimToken)
			}
			// The stale worker's call happened too: it is history, whoever recorded the verdict.
			if n, want := len(e.attempts(d.ID)), map[bool]int{true: 2, false: 1}[d.RobotKey == old[0].key]; n != want {
				t.Errorf("delivery %d has %d attempt rows, want %d", d.ID, n, want)
			}
		}
		if got, _ := e.waitFinal(a, time.Second); got.Status != AlertDelivered {
			t.Errorf("alert %s after its last delivery was recorded", got.Status)
		}
		if n := e.countWhere(e.db.Gorm, &RobotSend{}, "settled = ?", false); n != 0 {
			t.Errorf("%d reserved sends left unsettled", n)
		}
	})
}

func TestClaimAndRecordCostDoNotGrowWithTheNumberOfRobots(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		d := New(e.store, e.notifier, fastConfig())
		cost := func(n int) (claim, record int64) {
			a := e.alert(AlertInput{Recipients: models.RecipientQuery{GroupIDs: []string{e.fleet(fmt.Sprintf("fleet%d", n), n, senders.DingTalk)}}})
			ctx, count := models.WithStatementCounter(context.Background())
			claims, _, err := d.claimRobots(ctx, robotHashes(e.deliveries(a.ID)))
			if err != nil || len(claims) != n {
				t.Fatalf("claimed %d of %d robots: %v", len(claims), n, err)
			}
			claim = count.Load()
			var rs []*result
			for _, c := range claims {
				rs = append(rs, sentResult(c, c.batches[0]))
			}
			d.recordResults(ctx, rs)
			for _, r := range rs {
				if r.err != nil {
					t.Fatal(r.err)
				}
			}
			if got, _ := e.waitFinal(a, time.Second); got.Status != AlertDelivered {
				t.Fatalf("alert %s", got.Status)
			}
			return claim, count.Load() - claim
		}
		c3, r3 := cost(3)
		c40, r40 := cost(40)
		t.Logf("statements: claim %d, record %d", c40, r40)
		if c40 != c3 || r40 != r3 {
			t.Errorf("3 robots cost %d+%d statements, 40 robots %d+%d: want the same", c3, r3, c40, r40)
		}
	})
}
