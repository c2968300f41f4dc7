package delivery

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// The console's overview asks how delivery went over a day or a week. Each figure is a GROUP BY
// (two for the failing robots) over the alerts accepted in the range (the namespace's created_at index) and their deliveries or
// attempts, so its cost grows with the range's rows but nothing is loaded into Herald but the
// groups. Every figure keys on the alert's acceptance time, so the figures of one range agree with
// each other and with alerts(filter: {from, to}).

// StatsBucket is the width of one bucket; the values match the GraphQL enum.
type StatsBucket string

// Bucket widths.
const (
	BucketHour StatsBucket = "HOUR"
	BucketDay  StatsBucket = "DAY"
)

// Limits of a stats range: 744 hourly or 366 daily buckets.
var maxStatsSpan = map[StatsBucket]time.Duration{BucketHour: 31 * 24 * time.Hour, BucketDay: 366 * 24 * time.Hour}

func (b StatsBucket) width() time.Duration {
	if b == BucketDay {
		return 24 * time.Hour
	}
	return time.Hour
}

// Stats is one range of the delivery statistics. Its figures are read when asked for: the counts
// once for buckets and totals together.
type Stats struct {
	From, To time.Time
	Bucket   StatsBucket

	namespace *uint
	once      sync.Once
	buckets   []BucketCounts
	totals    DeliveryCounts
	err       error
}

// BucketCounts are the deliveries of the alerts accepted in one bucket, by their status now.
type BucketCounts struct {
	Start  time.Time
	Counts DeliveryCounts
}

// PlatformLatency is how long one platform's calls took: nearest-rank percentiles.
type PlatformLatency struct {
	Platform senders.Platform
	Attempts int
	P50Ms    int
	P95Ms    int
}

// FailingRobot is a robot with failed deliveries in the range.
type FailingRobot struct {
	Platform    senders.Platform
	Failed      int
	Total       int
	LastFailure *Delivery
}

// SourceCount is how many alerts one source made; a nil SourceID stands for sendAlert.
type SourceCount struct {
	SourceID *uint
	Alerts   int
}

// Stats checks and rounds a range: from down and to up to the bucket, at most maxStatsSpan apart.
func (o *Outbox) Stats(ctx context.Context, from, to time.Time, bucket StatsBucket) (*Stats, error) {
	span, ok := maxStatsSpan[bucket]
	if !ok {
		return nil, models.Invalid("bucket", "unknown bucket %q", string(bucket))
	}
	w := bucket.width()
	from = from.UTC().Truncate(w)
	if t := to.UTC().Truncate(w); t.Before(to) {
		to = t.Add(w)
	} else {
		to = t
	}
	if !to.After(from) {
		return nil, models.Invalid("to", "to must be after from")
	}
	if to.Sub(from) > span {
		return nil, models.Invalid("from", "a range of %s buckets spans at most %d days", bucket, int(span.Hours()/24))
	}
	s := &Stats{From: from, To: to, Bucket: bucket}
	if ns := models.NamespaceOf(ctx); ns != nil {
		id := ns.ID
		s.namespace = &id
	}
	return s, nil
}

// inRange is the range's alerts, as a.
func (o *Outbox) inRange(ctx context.Context, s *Stats) *gorm.DB {
	q := o.db.WithContext(ctx).Table("alerts AS a").Where("a.created_at >= ? AND a.created_at < ?", s.From, s.To)
	if s.namespace != nil {
		q = q.Where("a.namespace_id = ?", *s.namespace)
	}
	return q
}

// epochSeconds is a column's time in seconds since 1970 (UTC, as times are stored).
func epochSeconds(db *gorm.DB, column string) string {
	if models.IsMySQL(db) {
		return "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', " + column + ")"
	}
	return "CAST(strftime('%s', " + column + ") AS INTEGER)"
}

// StatsCounts returns the deliveries per bucket, every bucket of the range listed, and in all.
func (o *Outbox) StatsCounts(ctx context.Context, s *Stats) ([]BucketCounts, DeliveryCounts, error) {
	s.once.Do(func() {
		w := int64(s.Bucket.width() / time.Second)
		div := "/"
		if models.IsMySQL(o.db) {
			div = "DIV" // MySQL's / is decimal division
		}
		var rows []struct {
			B      int64
			Status DeliveryStatus
			N      int
		}
		err := o.inRange(ctx, s).Joins("JOIN deliveries d ON d.alert_id = a.id").
			Select(fmt.Sprintf("%s %s %d AS b, d.status AS status, COUNT(*) AS n", epochSeconds(o.db, "a.created_at"), div, w)).
			Group("b, d.status").Scan(&rows).Error
		if err != nil {
			s.err = fmt.Errorf("count deliveries by bucket: %w", err)
			return
		}
		first := s.From.Unix() / w
		s.buckets = make([]BucketCounts, int(s.To.Sub(s.From)/s.Bucket.width()))
		for i := range s.buckets {
			s.buckets[i].Start = s.From.Add(time.Duration(i) * s.Bucket.width())
		}
		for _, r := range rows {
			if i := r.B - first; i >= 0 && i < int64(len(s.buckets)) {
				s.buckets[i].Counts.add(r.Status, r.N)
			}
			s.totals.add(r.Status, r.N)
		}
	})
	return s.buckets, s.totals, s.err
}

// StatsAlerts counts the range's alerts.
func (o *Outbox) StatsAlerts(ctx context.Context, s *Stats) (int, error) {
	var n int64
	if err := o.inRange(ctx, s).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count alerts: %w", err)
	}
	return int(n), nil
}

// StatsLatency returns each called platform's median and 95th percentile call duration, by
// platform name. Attempts that made no call (expired, released, dropped) are not calls. The
// database counts the calls per platform and duration (whole milliseconds): a hash aggregate,
// where numbering every call in order (a window function) sorted them all and took several times
// as long; the nearest ranks are then read off those counts, exactly.
func (o *Outbox) StatsLatency(ctx context.Context, s *Stats) ([]PlatformLatency, error) {
	var rows []struct {
		Platform senders.Platform
		Ms       int
		N        int
	}
	err := o.inRange(ctx, s).Joins("JOIN deliveries d ON d.alert_id = a.id").
		Joins("JOIN delivery_attempts t ON t.delivery_id = d.id").
		Where("t.outcome NOT IN ?", []senders.Outcome{Expired, Released, Dropped}).
		Select("d.platform AS platform, t.duration_ms AS ms, COUNT(*) AS n").
		Group("d.platform, t.duration_ms").Order("platform, ms").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("measure call latency: %w", err)
	}
	var out []PlatformLatency
	for start := 0; start < len(rows); {
		end := start
		calls := 0
		for end < len(rows) && rows[end].Platform == rows[start].Platform {
			calls += rows[end].N
			end++
		}
		l := PlatformLatency{Platform: rows[start].Platform, Attempts: calls}
		// Nearest rank: the p-th percentile is the smallest duration whose rank is at least p% of n.
		seen := 0
		for _, r := range rows[start:end] {
			seen += r.N
			if l.P50Ms == 0 && seen*100 >= calls*50 {
				l.P50Ms = r.Ms
			}
			if seen*100 >= calls*95 {
				l.P95Ms = r.Ms
				break
			}
		}
		out = append(out, l)
		start = end
	}
	return out, nil
}

// MaxFailingRobots bounds failingRobots(first).
const MaxFailingRobots = 20

// FailingRobots returns the robots with the most failed deliveries, most first, then by robot key.
// The failed deliveries alone pick the robots (the alert-and-status index narrows them); then each
// of those few robots' deliveries are counted by the robot index.
func (o *Outbox) FailingRobots(ctx context.Context, s *Stats, first int) ([]FailingRobot, error) {
	if first < 1 || first > MaxFailingRobots {
		return nil, models.Invalid("first", "first must be 1-%d", MaxFailingRobots)
	}
	var rows []struct {
		RobotKey   string
		Failed     int
		LastFailed uint
	}
	err := o.inRange(ctx, s).Joins("JOIN deliveries d ON d.alert_id = a.id AND d.status = ?", DeliveryFailed).
		Select("d.url_hash AS robot_key, COUNT(*) AS failed, MAX(d.id) AS last_failed").
		Group("d.url_hash").Order("failed DESC, robot_key").Limit(first).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find failing robots: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	keys := make([]string, len(rows))
	ids := make([]uint, len(rows))
	for i, r := range rows {
		keys[i], ids[i] = r.RobotKey, r.LastFailed
	}
	var totals []struct {
		RobotKey string
		Total    int
	}
	err = o.inRange(ctx, s).Joins("JOIN deliveries d ON d.alert_id = a.id").Where("d.url_hash IN ?", keys).
		Select("d.url_hash AS robot_key, COUNT(*) AS total").Group("d.url_hash").Scan(&totals).Error
	if err != nil {
		return nil, fmt.Errorf("count failing robots' deliveries: %w", err)
	}
	total := make(map[string]int, len(totals))
	for _, t := range totals {
		total[t.RobotKey] = t.Total
	}
	var last []*Delivery
	if err := o.db.WithContext(ctx).Where("id IN ?", ids).Find(&last).Error; err != nil {
		return nil, fmt.Errorf("load failed deliveries: %w", err)
	}
	byID := make(map[uint]*Delivery, len(last))
	for _, d := range last {
		byID[d.ID] = d
	}
	out := make([]FailingRobot, 0, len(rows))
	for _, r := range rows {
		if d := byID[r.LastFailed]; d != nil { // gone if retention deleted it meanwhile
			out = append(out, FailingRobot{Platform: d.Platform, Failed: r.Failed, Total: total[r.RobotKey], LastFailure: d})
		}
	}
	return out, nil
}

// AlertsBySource counts the range's alerts per source, most first; sendAlert's (no source) sort
// with the integrations by count, then by id with no source first.
func (o *Outbox) AlertsBySource(ctx context.Context, s *Stats) ([]SourceCount, error) {
	var out []SourceCount
	err := o.inRange(ctx, s).Select("a.source_integration_id AS source_id, COUNT(*) AS alerts").
		Group("a.source_integration_id").
		Order("COUNT(*) DESC").Order("CASE WHEN a.source_integration_id IS NULL THEN 0 ELSE 1 END, a.source_integration_id").
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("count alerts by source: %w", err)
	}
	return out, nil
}
