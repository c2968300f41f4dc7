package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/platforms"
	"golang.org/x/sync/errgroup"
)

// The history: alerts that Herald accepted and finished over the last three days, as its outbox
// leaves them. Alerts of about ten deliveries each, plus one alert of 1,000 (the one alertDeliveries
// reads), each delivery to a distinct robot of the seeded webhooks, SENT after one attempt or, one in
// twenty, FAILED after a retried 503 and a refusal. Every row is final (no next_attempt_at, no claim),
// so the dispatcher never claims one, and recent enough that retention keeps it (HERALD_RETENTION,
// 90 days by default). The rows go in as multi-row INSERTs, one transaction per batch of alerts.

// minHistory is the smallest history: the large alert's deliveries.
const minHistory = 1000

const (
	largeAlertDeliveries = 1000
	deliveriesPerAlert   = 10
	historySpan          = 72 * time.Hour
	// historyBatch is the alerts written per transaction: about 5,000 deliveries and their attempts.
	historyBatch = 500
	// historyParams bounds the placeholders of one history INSERT, prepared once per table and
	// batch: a few thousand rows per statement under MySQL's 65,535 placeholders; on SQLite, whose
	// pure-Go driver is slow with long statements, about a hundred.
	historyParamsMySQL  = 60_000
	historyParamsSQLite = 2_000
)

var (
	alertCols = []string{"id", "namespace_id", "title", "content", "severity", "format", "status", "idempotency_key", "mention_all",
		"mention_contacts", "test", "resolved", "labels", "source_integration_id", "links", "template_id", "template_error",
		"silenced_by_id", "routed_by", "created_at", "updated_at"}
	deliveryCols = []string{"id", "alert_id", "platform", "url", "url_hash", "secret", "keyword", "mention_phones", "mention_user_ids",
		"contact_ids", "contact_names", "hold", "held_until", "held_by", "status", "next_attempt_at", "claim_token", "attempts",
		"last_error", "sent_at", "created_at", "updated_at"}
	attemptCols = []string{"id", "delivery_id", "at", "duration_ms", "http_status", "platform_code", "outcome", "error", "coalesced", "note"}
	robotCols   = []string{"url_hash", "platform", "failures", "paused_until", "created_at", "updated_at"}

	alertNames = []string{"HighLatency", "DiskAlmostFull", "InstanceDown", "HighErrorRate", "CertificateExpiring", "QueueBacklog", "MemoryPressure"}
	severities = []senders.Severity{senders.Info, senders.Warning, senders.Warning, senders.Critical}
)

// historyRobot is one seeded webhook as a delivery copies it.
type historyRobot struct {
	url, key                 string
	platform                 senders.Platform
	secret                   sql.NullString
	contactIDs, contactNames string // the JSON a delivery keeps
}

// refusal is a platform's permanent answer, as its sender words the error.
func refusal(p senders.Platform) (code int, text string) {
	switch p {
	case senders.DingTalk:
		return 310000, "DingTalk answered code 310000: keywords not in content"
	case senders.WeCom:
		return 93000, "WeCom answered code 93000: invalid webhook url"
	default:
		return 19021, "Lark answered code 19021: sign match fail or timestamp is not within one hour from current time"
	}
}

// history seeds n stored deliveries (and their alerts, attempts and robots) and records them in ds.
func (s *seeder) history(ctx context.Context, n int, ds *dataset) (err error) {
	pool, err := s.historyRobots(ctx)
	if err != nil {
		return err
	}
	if len(pool) < deliveriesPerAlert {
		return fmt.Errorf("the history needs at least %d webhooks, the data set has %d", deliveriesPerAlert, len(pool))
	}
	large := min(largeAlertDeliveries, len(pool), n)
	small := (n - large + deliveriesPerAlert - 1) / deliveriesPerAlert
	alerts := small + 1
	largeAt := alerts / 2 // in the middle of the history: not on the first page of alerts
	sizes := func(k int) int {
		switch {
		case k == largeAt:
			return large
		case k == 0 && (n-large)%deliveriesPerAlert != 0: // the oldest takes the rest (largeAt > 0 here)
			return (n - large) % deliveriesPerAlert
		default:
			return deliveriesPerAlert
		}
	}
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows := make([][]any, len(pool))
		for i, r := range pool {
			rows[i] = []any{r.key, string(r.platform), 0, nil, s.now.Add(-historySpan - time.Hour), s.now.Add(-historySpan - time.Hour)}
		}
		return s.insertLimit(ctx, tx, "robots", robotCols, rows, s.historyParams())
	}); err != nil {
		return err
	}
	if s.backend == models.MySQL {
		// InnoDB keeps the indexes of a growing table in a small buffer pool by random writes;
		// it builds one over the loaded rows much faster, by sorting.
		restore, derr := s.deferIndexes(ctx, "deliveries")
		if derr != nil {
			return derr
		}
		defer func() {
			if rerr := restore(); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	start := s.now.Add(-historySpan - time.Hour) // every alert finished well before now
	step := historySpan / time.Duration(alerts)
	// One goroutine makes the batches (the seeder's random source is not shared); writers insert
	// them, each batch in a transaction of its own: two at once on MariaDB, one on SQLite, which
	// has one writer.
	batches := make(chan historyRows, 2)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(batches)
		var deliveryID, attemptID int64
		next := 0 // the pool position of the next alert's first robot
		for first := 0; first < alerts; first += historyBatch {
			var b historyRows
			for k := first; k < min(first+historyBatch, alerts); k++ {
				next = s.historyAlert(&b, pool, next, int64(k+1), start.Add(time.Duration(k)*step), sizes(k), &deliveryID, &attemptID)
			}
			select {
			case batches <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	writers := 2
	if s.backend != models.MySQL {
		writers = 1
	}
	var mu sync.Mutex
	for range writers {
		g.Go(func() error {
			for b := range batches {
				if err := s.inTx(gctx, func(tx *sql.Tx) error {
					if err := s.insertPrepared(gctx, tx, "alerts", alertCols, b.alerts, s.historyParams()); err != nil {
						return err
					}
					if err := s.insertPrepared(gctx, tx, "deliveries", deliveryCols, b.deliveries, s.historyParams()); err != nil {
						return err
					}
					return s.insertPrepared(gctx, tx, "delivery_attempts", attemptCols, b.attempts, s.historyParams())
				}); err != nil {
					return fmt.Errorf("seed the history: %w", err)
				}
				mu.Lock()
				ds.Alerts += len(b.alerts)
				ds.Deliveries += len(b.deliveries)
				ds.Attempts += len(b.attempts)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	ds.LargeAlert = int64(largeAt + 1)
	return nil
}

// historyRows are the rows of one batch of the history.
type historyRows struct {
	alerts, deliveries, attempts [][]any
}

// historyAlert adds one finished alert created at created, with size deliveries to the robots of
// pool from next on, and returns the pool position after them.
func (s *seeder) historyAlert(b *historyRows, pool []historyRobot, next int, alertID int64, created time.Time, size int, deliveryID, attemptID *int64) int {
	created = created.Truncate(time.Microsecond)
	name := alertNames[s.rng.IntN(len(alertNames))]
	host := fmt.Sprintf("host-%d", s.rng.IntN(500))
	sev := severities[s.rng.IntN(len(severities))]
	labels, _ := json.Marshal([]map[string]string{
		{"name": "alertname", "value": name}, {"name": "instance", "value": host + ":9100"},
		{"name": "job", "value": "node"}, {"name": "severity", "value": strings.ToLower(string(sev))}})
	sent, failed := 0, 0
	finished := created
	for i := range size {
		r := pool[(next+i)%len(pool)]
		*deliveryID++
		did := *deliveryID
		at := created.Add(time.Duration(200+s.rng.IntN(800)) * time.Millisecond)
		dur := 20 + s.rng.IntN(180)
		status, tries := "SENT", 1
		var lastError, sentAt any
		if s.rng.IntN(20) == 0 {
			// A 503, retried after the backoff, then a refusal for good.
			code, text := refusal(r.platform)
			*attemptID++
			b.attempts = append(b.attempts, []any{*attemptID, did, at, dur, 503, nil, string(senders.Retryable),
				platforms.Registry.Name(r.platform) + " answered HTTP 503", 1, nil})
			at = at.Add(time.Duration(dur)*time.Millisecond + 2*time.Second + time.Duration(s.rng.IntN(1000))*time.Millisecond)
			*attemptID++
			b.attempts = append(b.attempts, []any{*attemptID, did, at, dur, 200, code, string(senders.Permanent), text, 1, nil})
			status, lastError, tries = "FAILED", text, 2
			failed++
		} else {
			*attemptID++
			b.attempts = append(b.attempts, []any{*attemptID, did, at, dur, 200, 0, string(senders.Sent), nil, 1, nil})
			sent++
		}
		done := at.Add(time.Duration(dur) * time.Millisecond)
		if status == "SENT" {
			sentAt = done
		}
		if done.After(finished) {
			finished = done
		}
		var secret any
		if r.secret.Valid {
			secret = r.secret.String
		}
		b.deliveries = append(b.deliveries, []any{did, alertID, string(r.platform), r.url, r.key, secret, nil, nil, nil,
			r.contactIDs, r.contactNames, "", nil, nil, status, nil, nil, tries, lastError, sentAt, created, done})
	}
	status := "PARTIALLY_DELIVERED"
	switch {
	case failed == 0:
		status = "DELIVERED"
	case sent == 0:
		status = "FAILED"
	}
	title := fmt.Sprintf("[FIRING:1] %s %s", name, host)
	content := fmt.Sprintf("**%s** on %s:9100\n\n- severity: %s\n- job: node", name, host, strings.ToLower(string(sev)))
	b.alerts = append(b.alerts, []any{alertID, models.DefaultNamespaceID, title, content, string(sev), string(senders.Markdown),
		status, nil, false, false, false, false, string(labels), nil, nil, nil, nil, nil, nil, created, finished})
	return (next + size) % len(pool)
}

// deferIndexes drops the secondary indexes of a MySQL table that no foreign key needs, and returns
// the function that adds them back as they were (same names, columns and order).
func (s *seeder) deferIndexes(ctx context.Context, table string) (restore func() error, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT index_name, non_unique, column_name, sub_part FROM information_schema.statistics
		WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY' AND index_name NOT IN
			(SELECT s.index_name FROM information_schema.statistics s JOIN information_schema.key_column_usage k
				ON k.table_schema = s.table_schema AND k.table_name = s.table_name AND k.column_name = s.column_name
				WHERE s.table_schema = DATABASE() AND s.table_name = ? AND s.seq_in_index = 1 AND k.referenced_table_name IS NOT NULL)
		ORDER BY index_name, seq_in_index`, table, table)
	if err != nil {
		return nil, fmt.Errorf("read the indexes of %s: %w", table, err)
	}
	type index struct {
		name   string
		unique bool
		cols   []string
	}
	var indexes []*index
	for rows.Next() {
		var (
			name, col string
			nonUnique int
			sub       sql.NullInt64
		)
		if err := rows.Scan(&name, &nonUnique, &col, &sub); err != nil {
			rows.Close()
			return nil, err
		}
		if len(indexes) == 0 || indexes[len(indexes)-1].name != name {
			indexes = append(indexes, &index{name: name, unique: nonUnique == 0})
		}
		c := "`" + col + "`"
		if sub.Valid {
			c += fmt.Sprintf("(%d)", sub.Int64)
		}
		ix := indexes[len(indexes)-1]
		ix.cols = append(ix.cols, c)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(indexes) == 0 {
		return func() error { return nil }, nil
	}
	var drops, adds []string
	for _, ix := range indexes {
		drops = append(drops, "DROP INDEX `"+ix.name+"`")
		kind := "INDEX"
		if ix.unique {
			kind = "UNIQUE INDEX"
		}
		adds = append(adds, fmt.Sprintf("ADD %s `%s` (%s)", kind, ix.name, strings.Join(ix.cols, ", ")))
	}
	if _, err := s.db.ExecContext(ctx, "ALTER TABLE `"+table+"` "+strings.Join(drops, ", ")); err != nil {
		return nil, fmt.Errorf("drop the indexes of %s: %w", table, err)
	}
	return func() error {
		if _, err := s.db.ExecContext(context.WithoutCancel(ctx), "ALTER TABLE `"+table+"` "+strings.Join(adds, ", ")); err != nil {
			return fmt.Errorf("add back the indexes of %s: %w", table, err)
		}
		return nil
	}, nil
}

func (s *seeder) historyParams() int {
	if s.backend == models.MySQL {
		return historyParamsMySQL
	}
	return historyParamsSQLite
}

// historyRobots reads up to 2,000 seeded webhooks, with their contacts' names, for the deliveries.
func (s *seeder) historyRobots(ctx context.Context) ([]historyRobot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT w.contact_id, c.name, w.url, w.url_hash, w.platform, w.secret
		FROM webhooks w JOIN contacts c ON c.id = w.contact_id ORDER BY w.id LIMIT 2000`)
	if err != nil {
		return nil, fmt.Errorf("read the robots of the history: %w", err)
	}
	defer rows.Close()
	var out []historyRobot
	for rows.Next() {
		var (
			r        historyRobot
			platform string
			contact  int64
			name     string
		)
		if err := rows.Scan(&contact, &name, &r.url, &r.key, &platform, &r.secret); err != nil {
			return nil, err
		}
		r.platform = senders.Platform(platform)
		ids, _ := json.Marshal([]int64{contact})
		names, _ := json.Marshal([]string{name})
		r.contactIDs, r.contactNames = string(ids), string(names)
		out = append(out, r)
	}
	return out, rows.Err()
}
