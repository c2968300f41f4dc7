package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
)

// The feed tells subscribers (alertChanged, deliveryChanged) what changed in the outbox, whichever
// replica changed it. MariaDB offers no notification a client can wait on (PostgreSQL's LISTEN has
// no MySQL counterpart), and a change log written by every claim and record would add a write to
// the hot path and, with auto-increment ids committing out of order, still need a look-back. So each
// replica polls, and only while someone subscribes: it compares the state of what is watched with
// the previous poll's. State cannot be missed the way an event can: a change committed late is seen
// at the next poll, and a subscriber that falls behind gets the latest state once.
//
// For a namespace's alerts the watched state is each PENDING alert's status and its deliveries'
// counts by status (the alert-and-status index answers them), and the updated_at of the alerts
// accepted, finished or retried in the last feedLookBack (the namespace's updated_at index, index
// only), which catches those however late their transaction commits and however soon they finish.
// For one alert's deliveries it is each delivery's status, attempts and updated_at, read by the
// alert's index.

// feedLookBack is how far back a poll looks for updated alerts: longer than a queue transaction may
// take to commit (queueTxTimeout) and than replicas' clocks plausibly differ.
const feedLookBack = 30 * time.Second

// feedPrimeWindow is how recent a change a watch's first poll reports: a subscriber usually reads
// the list, then subscribes, and what changed in between must reach it (twice at worst).
const feedPrimeWindow = 10 * time.Second

// feedMaxPending bounds the PENDING alerts a poll compares per namespace: the newest ones. During a
// flood the older ones' changes wait until fewer are pending.
const feedMaxPending = 1000

// Feed polls the database for changes subscribers wait on.
type Feed struct {
	db    *gorm.DB
	every time.Duration

	mu     sync.Mutex
	spaces map[uint]*spaceWatch // by namespace id
	alerts map[uint]*alertWatch // by alert id

	failing bool // the last poll failed: the next failure is not logged again
	// wake makes a new watch's first poll come now rather than at the next tick.
	wake chan struct{}
}

// NewFeed returns a feed that polls every interval while it has subscribers.
func NewFeed(db *gorm.DB, every time.Duration) *Feed {
	return &Feed{db: db, every: every, spaces: map[uint]*spaceWatch{}, alerts: map[uint]*alertWatch{}, wake: make(chan struct{}, 1)}
}

// Changes are the ids of changed things a subscriber has not taken yet; Ready is signalled when
// there are some.
type Changes struct {
	Ready <-chan struct{}
	ready chan struct{}
	mu    sync.Mutex
	ids   map[uint]struct{}
}

func newChanges() *Changes {
	ready := make(chan struct{}, 1)
	return &Changes{Ready: ready, ready: ready, ids: map[uint]struct{}{}}
}

func (c *Changes) add(ids []uint) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		c.ids[id] = struct{}{}
	}
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

// Take returns the changed ids in ascending order and forgets them.
func (c *Changes) Take() []uint {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := slices.Sorted(maps.Keys(c.ids))
	clear(c.ids)
	return ids
}

type spaceWatch struct {
	subscribers
	primed bool
	recent map[uint]time.Time   // updated_at of the alerts updated within the look-back, by id
	state  map[uint]pendingSign // PENDING alerts at the last poll
}

type pendingSign struct {
	status AlertStatus
	counts DeliveryCounts
}

type alertWatch struct {
	subscribers
	primed bool
	state  map[uint]deliverySign
}

type deliverySign struct {
	status   DeliveryStatus
	attempts int
	updated  int64 // UnixNano: equal instants compare equal whatever their location
}

// subscribers are a watch's listeners.
type subscribers map[*Changes]struct{}

func (s subscribers) of() subscribers { return s }

// WatchAlerts reports the alerts of a namespace that are accepted or change, until ctx ends.
func (f *Feed) WatchAlerts(ctx context.Context, namespaceID uint) *Changes {
	return watch(ctx, f, f.spaces, namespaceID, func() *spaceWatch { return &spaceWatch{subscribers: subscribers{}} })
}

// WatchDeliveries reports the deliveries of an alert that change, until ctx ends.
func (f *Feed) WatchDeliveries(ctx context.Context, alertID uint) *Changes {
	return watch(ctx, f, f.alerts, alertID, func() *alertWatch { return &alertWatch{subscribers: subscribers{}} })
}

// watch adds a subscriber to the watch of key in watches (a new one first), polls at once, and
// removes it when ctx ends, with the watch once it has no subscriber left.
func watch[W interface {
	comparable
	of() subscribers
}](ctx context.Context, f *Feed, watches map[uint]W, key uint, fresh func() W) *Changes {
	c := newChanges()
	f.mu.Lock()
	w, ok := watches[key]
	if !ok {
		w = fresh()
		watches[key] = w
	}
	w.of()[c] = struct{}{}
	f.mu.Unlock()
	f.poke()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(w.of(), c)
		if len(w.of()) == 0 && watches[key] == w {
			delete(watches, key)
		}
	})
	return c
}

func (f *Feed) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.wake:
		}
		err := f.Poll(ctx)
		switch {
		case err != nil && !f.failing && ctx.Err() == nil:
			slog.WarnContext(ctx, "change feed: poll failed; subscribers wait for the database", "error", err)
			f.failing = true
		case err == nil && f.failing:
			slog.InfoContext(ctx, "change feed: polling again")
			f.failing = false
		}
	}
}

// Poll compares what is watched with the previous poll and tells the subscribers what changed. A
// watch's first poll records the state and reports only what changed in the last feedPrimeWindow.
func (f *Feed) Poll(ctx context.Context) error {
	f.mu.Lock()
	spaces := maps.Clone(f.spaces)
	alerts := maps.Clone(f.alerts)
	f.mu.Unlock()
	if len(spaces) == 0 && len(alerts) == 0 {
		return nil
	}
	db := f.db.WithContext(ctx)
	now, err := dbNow(db)
	if err != nil {
		return err
	}
	for id, w := range spaces {
		changed, err := f.pollSpace(db, id, w, now)
		if err != nil {
			return err
		}
		f.tell(w.subscribers, changed)
	}
	if len(alerts) > 0 {
		changed, err := f.pollDeliveries(db, alerts, now)
		if err != nil {
			return err
		}
		for id, ids := range changed {
			f.tell(alerts[id].subscribers, ids)
		}
	}
	return nil
}

func (f *Feed) tell(subs subscribers, ids []uint) {
	if len(ids) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range subs {
		c.add(ids)
	}
}

// pollSpace returns the namespace's alerts that are new, or whose status or delivery counts
// changed, since the last poll. Only the poller touches w's state.
func (f *Feed) pollSpace(db *gorm.DB, namespaceID uint, w *spaceWatch, now time.Time) ([]uint, error) {
	var recent []struct {
		ID        uint
		UpdatedAt time.Time
	}
	if err := db.Table("alerts").Select("id, updated_at").
		Where("namespace_id = ? AND updated_at >= ?", namespaceID, now.Add(-feedLookBack)).
		Scan(&recent).Error; err != nil {
		return nil, fmt.Errorf("find updated alerts: %w", err)
	}
	var pending []uint
	if err := db.Table("alerts").Where("namespace_id = ? AND status = ?", namespaceID, AlertPending).
		Order("created_at DESC").Limit(feedMaxPending).Pluck("id", &pending).Error; err != nil {
		return nil, fmt.Errorf("find pending alerts: %w", err)
	}
	var changed []uint
	seen := make(map[uint]time.Time, len(recent))
	for _, r := range recent {
		seen[r.ID] = r.UpdatedAt
		before, known := w.recent[r.ID]
		if (w.primed && (!known || !before.Equal(r.UpdatedAt))) || (!w.primed && now.Sub(r.UpdatedAt) < feedPrimeWindow) {
			changed = append(changed, r.ID)
		}
	}
	w.recent = seen

	watch := slices.Concat(pending, slices.Collect(maps.Keys(w.state)))
	slices.Sort(watch)
	watch = slices.Compact(watch)
	signs, err := pendingSigns(db, watch)
	if err != nil {
		return nil, err
	}
	next := make(map[uint]pendingSign, len(pending))
	for _, id := range watch {
		s, ok := signs[id]
		before, was := w.state[id]
		if w.primed && ok && (!was || before != s) {
			changed = append(changed, id)
		}
		if ok && s.status == AlertPending {
			next[id] = s
		}
	}
	w.state, w.primed = next, true
	slices.Sort(changed)
	return slices.Compact(changed), nil
}

// pendingSigns reads the status and delivery counts of the alerts (those deleted meanwhile are
// missing).
func pendingSigns(db *gorm.DB, ids []uint) (map[uint]pendingSign, error) {
	out := make(map[uint]pendingSign, len(ids))
	for chunk := range slices.Chunk(ids, claimRows) {
		var alerts []struct {
			ID     uint
			Status AlertStatus
		}
		if err := db.Table("alerts").Select("id, status").Where("id IN ?", chunk).Scan(&alerts).Error; err != nil {
			return nil, fmt.Errorf("read alert statuses: %w", err)
		}
		var counts []struct {
			AlertID uint
			Status  DeliveryStatus
			N       int
		}
		if err := db.Table("deliveries").Select("alert_id, status, COUNT(*) AS n").
			Where("alert_id IN ?", chunk).Group("alert_id, status").Scan(&counts).Error; err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		for _, a := range alerts {
			out[a.ID] = pendingSign{status: a.Status}
		}
		for _, c := range counts {
			if s, ok := out[c.AlertID]; ok {
				s.counts.add(c.Status, c.N)
				out[c.AlertID] = s
			}
		}
	}
	return out, nil
}

// pollDeliveries returns, per watched alert, its deliveries whose status, attempts or updated_at
// changed since the last poll.
func (f *Feed) pollDeliveries(db *gorm.DB, watches map[uint]*alertWatch, at time.Time) (map[uint][]uint, error) {
	ids := slices.Sorted(maps.Keys(watches))
	now := make(map[uint]map[uint]deliverySign, len(ids))
	for chunk := range slices.Chunk(ids, claimRows) {
		var rows []struct {
			ID        uint
			AlertID   uint
			Status    DeliveryStatus
			Attempts  int
			UpdatedAt time.Time
		}
		if err := db.Table("deliveries").Select("id, alert_id, status, attempts, updated_at").
			Where("alert_id IN ?", chunk).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read watched deliveries: %w", err)
		}
		for _, r := range rows {
			if now[r.AlertID] == nil {
				now[r.AlertID] = map[uint]deliverySign{}
			}
			now[r.AlertID][r.ID] = deliverySign{status: r.Status, attempts: r.Attempts, updated: r.UpdatedAt.UnixNano()}
		}
	}
	changed := map[uint][]uint{}
	for _, id := range ids {
		w := watches[id]
		for did, s := range now[id] {
			before, ok := w.state[did]
			if (w.primed && (!ok || before != s)) || (!w.primed && at.Sub(time.Unix(0, s.updated)) < feedPrimeWindow) {
				changed[id] = append(changed[id], did)
			}
		}
		w.state, w.primed = now[id], true
		slices.Sort(changed[id])
	}
	return changed, nil
}
