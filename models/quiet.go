package models

import (
	"sync"
	"time"

	// The zone data ships in the binary, so a machine without tzdata computes the same quiet hours
	// (and CleanTimeZone accepts the same zones).
	_ "time/tzdata"
)

// TimeWindow is a span of wall-clock time on some weekdays in one IANA zone, as a person reads it on a clock.
type TimeWindow struct {
	Weekdays []int  `json:"weekdays"` // ISO 8601: 1 Monday ... 7 Sunday; empty: every day. The day the window STARTS on.
	Start    string `json:"start"`    // "HH:MM", 00:00-23:59
	End      string `json:"end"`      // "HH:MM", 00:00-24:00; at or before Start (e.g. 22:00-07:30, or 22:00-00:00) the window ends on the next day
	TimeZone string `json:"timeZone"` // IANA zone, e.g. Asia/Shanghai
}

// QuietHours are a group's windows (stored as a JSON column).
type QuietHours []TimeWindow

// MaxQuietWindows bounds the windows of one group, which Until reads on every alert.
const MaxQuietWindows = 16

const minutesPerDay = 24 * 60

// CleanQuietHours validates and normalises windows given at field (e.g. "quietHours"):
//   - at most MaxQuietWindows;
//   - weekdays each 1..7, duplicates removed, sorted; empty (every day) is stored as [] rather than null;
//   - start "HH:MM" from 00:00 to 23:59, end "HH:MM" from 00:00 to 24:00, and not equal;
//   - time zone via CleanTimeZone; empty becomes "UTC".
//
// nil input gives an empty non-nil QuietHours.
func CleanQuietHours(field string, in []TimeWindow) (QuietHours, error) {
	if len(in) > MaxQuietWindows {
		return nil, Invalid(field, "at most %d quiet windows, got %d", MaxQuietWindows, len(in))
	}
	out := make(QuietHours, 0, len(in))
	for i, w := range in {
		at := indexed(field, i)
		var days uint8
		for _, d := range w.Weekdays {
			if d < 1 || d > 7 {
				return nil, Invalid(at+".weekdays", "weekdays are 1 (Monday) to 7 (Sunday), got %d", d)
			}
			days |= 1 << d
		}
		// A fresh slice, so that the caller's input is not shared with what is stored.
		weekdays := []int{}
		for d := 1; d <= 7; d++ {
			if days&(1<<d) != 0 {
				weekdays = append(weekdays, d)
			}
		}
		start, ok := parseClock(w.Start, false)
		if !ok {
			if w.Start == "24:00" {
				return nil, Invalid(at+".start", "24:00 is only an end; a window from midnight starts at 00:00")
			}
			return nil, Invalid(at+".start", "start is a time HH:MM from 00:00 to 23:59, got %q", w.Start)
		}
		end, ok := parseClock(w.End, true)
		if !ok {
			return nil, Invalid(at+".end", "end is a time HH:MM from 00:00 to 24:00, got %q", w.End)
		}
		if start == end {
			return nil, Invalid(at+".end", "start and end are both %s, which is no time at all; a whole day is 00:00 to 24:00", w.End)
		}
		tz, err := CleanTimeZone(at+".timeZone", w.TimeZone)
		if err != nil {
			return nil, err
		}
		out = append(out, TimeWindow{Weekdays: weekdays, Start: w.Start, End: w.End, TimeZone: tz})
	}
	return out, nil
}

// parseClock reads exactly "HH:MM" as minutes after midnight; a looser form would let "7:5" and
// "07:05" be stored as different values for the same window.
func parseClock(s string, endOfDay bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [...]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if endOfDay && h == 24 && m == 0 {
		return minutesPerDay, true
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// locations caches time.LoadLocation, which reads and parses the zone data on every call.
// Only zones that loaded are kept, so the map cannot grow past the IANA zone names.
var locations sync.Map // string → *time.Location

func loadZone(name string) (*time.Location, bool) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), true
	}
	// "Local" is refused as CleanTimeZone refuses it: the answer must not depend on the machine.
	if name == "Local" {
		return nil, false
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	locations.Store(name, l)
	return l, true
}

// window is a TimeWindow parsed once per Until call.
type window struct {
	days       uint8 // bit d set for ISO weekday d; 0 means every day
	start, end int   // minutes after midnight; end <= start ends on the next day
	loc        *time.Location
}

// Until reports whether t falls inside one of the windows and, if so, the instant the quiet ends:
// the end of that window, extended while the end falls inside another window (chained/overlapping
// windows, e.g. Mon-Fri 22:00-07:00 plus Sat-Sun 00:00-24:00, make one quiet period). Windows are half-open [start, end).
//
// A window that does not parse (stored before validation, or a zone this binary lacks) is skipped:
// an unreadable rule must not silence alerts.
func (q QuietHours) Until(t time.Time) (time.Time, bool) {
	var buf [MaxQuietWindows]window
	ws := buf[:0]
	for _, w := range q {
		if p, ok := parseWindow(w); ok {
			ws = append(ws, p)
		}
	}
	end, ok := latestEnd(ws, t)
	if !ok {
		return time.Time{}, false
	}
	// Each step moves end strictly later (a window holding end ends after it), and the bound stops
	// a set that is quiet for ever, such as every day 00:00-24:00.
	for range 8 * MaxQuietWindows {
		next, ok := latestEnd(ws, end)
		if !ok || !next.After(end) {
			break
		}
		end = next
	}
	return end, true
}

func parseWindow(w TimeWindow) (window, bool) {
	var p window
	for _, d := range w.Weekdays {
		if d < 1 || d > 7 {
			return window{}, false
		}
		p.days |= 1 << d
	}
	var ok bool
	if p.start, ok = parseClock(w.Start, false); !ok {
		return window{}, false
	}
	if p.end, ok = parseClock(w.End, true); !ok || p.end == p.start {
		return window{}, false
	}
	if p.loc, ok = loadZone(w.TimeZone); !ok {
		return window{}, false
	}
	return p, true
}

// latestEnd is the latest end among the windows holding t.
func latestEnd(ws []window, t time.Time) (time.Time, bool) {
	var end time.Time
	found := false
	for _, w := range ws {
		if e, ok := w.holds(t); ok && (!found || e.After(end)) {
			end, found = e, true
		}
	}
	return end, found
}

// holds reports whether t is inside w and when that occurrence of w ends.
func (w window) holds(t time.Time) (time.Time, bool) {
	y, m, d := t.In(w.loc).Date()
	// The occurrence starting the day before may run past midnight into t's date. The one starting
	// the next day can hold t only when clocks fall back across midnight, so that t's date still
	// reads the day before after the next day began; checking it costs little.
	for k := -1; k <= 1; k++ {
		day := time.Date(y, m, d+k, 0, 0, 0, 0, time.UTC) // a calendar date, free of the zone
		if w.days != 0 && w.days&(1<<isoWeekday(day.Weekday())) == 0 {
			continue
		}
		dy, dm, dd := day.Date()
		from := wallInstant(w.loc, dy, dm, dd, w.start)
		endDay := dd
		if w.end <= w.start {
			endDay++
		}
		to := wallInstant(w.loc, dy, dm, endDay, w.end)
		if !t.Before(from) && t.Before(to) {
			return to, true
		}
	}
	return time.Time{}, false
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// wallInstant is the instant a clock in loc first reads the wall time y-m-d plus min minutes, or
// later: the earliest instant whose local reading is at or after it. A person reads it that way:
// a time skipped when clocks spring forward happens at the jump, and a time the clocks show twice
// when they fall back has already happened the first time. time.Date does not promise either
// choice, so its answer is only the starting point of the search.
func wallInstant(loc *time.Location, y int, m time.Month, d, min int) time.Time {
	// The wall time as if it were UTC: its Unix seconds are what a local clock would read.
	wall := time.Date(y, m, d, 0, min, 0, 0, time.UTC).Unix()
	guess := time.Date(y, m, d, 0, min, 0, 0, loc)
	_, off := guess.Zone()
	from, to := guess.ZoneBounds()
	// The wall time belongs to the period time.Date chose or to a neighbour; those are the only
	// offsets that can place it.
	offsets := [3]int{off, off, off}
	if !from.IsZero() {
		_, offsets[1] = from.Add(-time.Second).Zone()
	}
	if !to.IsZero() {
		_, offsets[2] = to.Zone()
	}
	var best time.Time
	for _, o := range offsets {
		c := time.Unix(wall-int64(o), 0).In(loc)
		if _, co := c.Zone(); co == o && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best
	}
	// No offset reads the wall time, so it lies in a gap: the answer is the transition before
	// which the clock read less and from which it reads more.
	for _, tr := range [...]time.Time{from, to} {
		if tr.IsZero() {
			continue
		}
		if reading(tr.Add(-time.Second)) < wall && reading(tr) >= wall {
			return tr
		}
	}
	return guess
}

// reading is the local clock reading of t, as Unix seconds of the same wall time in UTC.
func reading(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}
