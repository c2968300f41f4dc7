package models

import (
	"testing"
	"time"
)

// FuzzQuietHoursAndMatchers feeds arbitrary windows, times and matchers through what every alert
// meets: whatever was accepted when saved never panics, a quiet period always ends after the moment
// asked about, and a matcher accepted when saved matches without error.
func FuzzQuietHoursAndMatchers(f *testing.F) {
	f.Add("22:00", "07:00", "Europe/Berlin", uint8(0x1f), int64(1774738800), "team", "db|web", uint8(2))
	f.Add("00:00", "24:00", "America/New_York", uint8(0), int64(1793505600), "env", "prod", uint8(0))
	f.Add("02:30", "02:30", "Asia/Shanghai", uint8(0x7f), int64(0), "", "(", uint8(3))
	f.Fuzz(func(t *testing.T, start, end, zone string, days uint8, unix int64, label, value string, op uint8) {
		var weekdays []int
		for d := 1; d <= 7; d++ {
			if days&(1<<(d-1)) != 0 {
				weekdays = append(weekdays, d)
			}
		}
		q, err := CleanQuietHours("quietHours", []TimeWindow{{Weekdays: weekdays, Start: start, End: end, TimeZone: zone}})
		if err == nil {
			at := time.Unix(unix%(1<<34), 0).UTC()
			if until, quiet := q.Until(at); quiet && !until.After(at) {
				t.Fatalf("quiet at %s until %s, which is not later", at, until)
			}
		} else if _, ok := AsError(err); !ok {
			t.Fatalf("a refused window is not a client error: %v", err)
		}
		ops := []MatchOp{MatchEqual, MatchNotEqual, MatchRegexp, MatchNotRegexp, "LIKE"}
		ms, err := CleanMatchers("matchers", []Matcher{{Label: label, Op: ops[int(op)%len(ops)], Value: value}})
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("a refused matcher is not a client error: %v", err)
			}
			return
		}
		ms.Matches(map[string]string{label: value})
		ms.Matches(map[string]string{})
	})
}
