package models

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// utc reads "2006-01-02 15:04" (seconds optional) as a UTC instant.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	return in(t, "UTC", s)
}

// in reads "2006-01-02 15:04" in zone. Only for unambiguous wall times: the DST tests give
// instants in UTC so that the test does not rely on the rule under test.
func in(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout += ":05"
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func quiet(t *testing.T, ws ...TimeWindow) QuietHours {
	t.Helper()
	q, err := CleanQuietHours("quietHours", ws)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

type untilCase struct {
	name  string
	at    time.Time
	until time.Time // zero: outside every window
}

func checkUntil(t *testing.T, q QuietHours, cases []untilCase) {
	t.Helper()
	for _, c := range cases {
		got, ok := q.Until(c.at)
		if want := !c.until.IsZero(); ok != want {
			t.Errorf("%s: Until(%s) inside = %v, want %v (until %s)", c.name, c.at.UTC(), ok, want, got.UTC())
			continue
		}
		if !got.Equal(c.until) {
			t.Errorf("%s: Until(%s) = %s, want %s", c.name, c.at.UTC(), got.UTC(), c.until.UTC())
		}
	}
}

// 2026-01-05 is a Monday; 2026-01-09 a Friday.
func TestTimeWindowCoversTheDaysItStartsOn(t *testing.T) {
	t.Run("same day", func(t *testing.T) {
		q := quiet(t, TimeWindow{Weekdays: []int{1, 3}, Start: "09:00", End: "17:30"})
		checkUntil(t, q, []untilCase{
			{"monday inside", utc(t, "2026-01-05 12:00"), utc(t, "2026-01-05 17:30")},
			{"wednesday inside", utc(t, "2026-01-07 09:00"), utc(t, "2026-01-07 17:30")},
			{"tuesday is not listed", utc(t, "2026-01-06 12:00"), time.Time{}},
			{"before start", utc(t, "2026-01-05 08:59:59"), time.Time{}},
			{"after end", utc(t, "2026-01-05 18:00"), time.Time{}},
		})
	})
	t.Run("no weekdays is every day", func(t *testing.T) {
		q := quiet(t, TimeWindow{Start: "12:00", End: "13:00"})
		for d := 5; d <= 11; d++ {
			day := fmt.Sprintf("2026-01-%02d", d)
			checkUntil(t, q, []untilCase{{day, utc(t, day+" 12:30"), utc(t, day+" 13:00")}})
		}
	})
	t.Run("across midnight belongs to the start date", func(t *testing.T) {
		fri := quiet(t, TimeWindow{Weekdays: []int{5}, Start: "22:00", End: "07:00"})
		checkUntil(t, fri, []untilCase{
			{"friday night", utc(t, "2026-01-09 23:00"), utc(t, "2026-01-10 07:00")},
			{"saturday 03:00 is friday's window", utc(t, "2026-01-10 03:00"), utc(t, "2026-01-10 07:00")},
			{"friday 03:00 would be thursday's", utc(t, "2026-01-09 03:00"), time.Time{}},
			{"saturday night is not friday", utc(t, "2026-01-10 22:30"), time.Time{}},
		})
		sun := quiet(t, TimeWindow{Weekdays: []int{7}, Start: "22:00", End: "07:00"})
		checkUntil(t, sun, []untilCase{
			{"monday 06:59", utc(t, "2026-01-12 06:59"), utc(t, "2026-01-12 07:00")},
			{"monday 22:30", utc(t, "2026-01-12 22:30"), time.Time{}},
			{"sunday 22:30", utc(t, "2026-01-11 22:30"), utc(t, "2026-01-12 07:00")},
		})
	})
	t.Run("00:00 and 24:00 both end at midnight", func(t *testing.T) {
		for _, end := range []string{"00:00", "24:00"} {
			q := quiet(t, TimeWindow{Weekdays: []int{5}, Start: "22:00", End: end})
			checkUntil(t, q, []untilCase{
				{end + " inside", utc(t, "2026-01-09 23:59:59"), utc(t, "2026-01-10 00:00")},
				{end + " at midnight", utc(t, "2026-01-10 00:00"), time.Time{}},
			})
		}
		whole := quiet(t, TimeWindow{Weekdays: []int{6}, Start: "00:00", End: "24:00"})
		checkUntil(t, whole, []untilCase{
			{"whole saturday", utc(t, "2026-01-10 00:00"), utc(t, "2026-01-11 00:00")},
			{"not friday", utc(t, "2026-01-09 23:59:59"), time.Time{}},
		})
	})
}

func TestQuietHoursAreHalfOpen(t *testing.T) {
	q := quiet(t, TimeWindow{Start: "22:00", End: "07:00", TimeZone: "Asia/Shanghai"})
	checkUntil(t, q, []untilCase{
		{"at start", in(t, "Asia/Shanghai", "2026-01-05 22:00"), in(t, "Asia/Shanghai", "2026-01-06 07:00")},
		{"just before start", in(t, "Asia/Shanghai", "2026-01-05 21:59:59"), time.Time{}},
		{"just before end", in(t, "Asia/Shanghai", "2026-01-06 06:59:59"), in(t, "Asia/Shanghai", "2026-01-06 07:00")},
		{"at end", in(t, "Asia/Shanghai", "2026-01-06 07:00"), time.Time{}},
	})
	if got, ok := q.Until(in(t, "Asia/Shanghai", "2026-01-06 12:00")); ok || !got.IsZero() {
		t.Errorf("outside every window: Until = %s, %v; want the zero time, false", got, ok)
	}
	if got, ok := (QuietHours{}).Until(utc(t, "2026-01-06 12:00")); ok || !got.IsZero() {
		t.Errorf("no windows: Until = %s, %v; want the zero time, false", got, ok)
	}
}

func TestQuietHoursIgnoreTheLocationOfT(t *testing.T) {
	// Monday 00:00-01:00 in Shanghai is Sunday 16:00-17:00 UTC.
	q := quiet(t, TimeWindow{Weekdays: []int{1}, Start: "00:00", End: "01:00", TimeZone: "Asia/Shanghai"})
	want := utc(t, "2026-01-04 17:00")
	for _, zone := range []string{"UTC", "Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "Local"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		at := utc(t, "2026-01-04 16:30").In(loc)
		if got, ok := q.Until(at); !ok || !got.Equal(want) {
			t.Errorf("t in %s: Until = %s, %v; want %s", zone, got.UTC(), ok, want)
		}
		if _, ok := q.Until(utc(t, "2026-01-05 16:30").In(loc)); ok {
			t.Errorf("t in %s: Monday 16:30 UTC is Tuesday in Shanghai, yet inside", zone)
		}
	}
}

func TestQuietHoursEachInItsOwnZone(t *testing.T) {
	q := quiet(t,
		TimeWindow{Start: "09:00", End: "10:00", TimeZone: "Asia/Shanghai"}, // 01:00-02:00 UTC
		TimeWindow{Start: "09:00", End: "10:00", TimeZone: "UTC"},
	)
	checkUntil(t, q, []untilCase{
		{"shanghai morning", utc(t, "2026-01-05 01:30"), utc(t, "2026-01-05 02:00")},
		{"utc morning", utc(t, "2026-01-05 09:30"), utc(t, "2026-01-05 10:00")},
		{"between", utc(t, "2026-01-05 05:00"), time.Time{}},
	})
}

// Instants are given in UTC, read off the zone data: Berlin springs forward
// 2026-03-29 01:00 UTC and falls back 2026-10-25 01:00 UTC; New York springs forward
// 2026-03-08 07:00 UTC and falls back 2026-11-01 06:00 UTC.
func TestQuietHoursFollowTheClockOverDST(t *testing.T) {
	cases := []struct {
		name       string
		w          TimeWindow
		at         string // UTC
		from, till string // UTC; from is the first instant inside
		hours      float64
	}{
		{"berlin spring night", TimeWindow{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"},
			"2026-03-29 03:00", "2026-03-28 21:00", "2026-03-29 05:00", 8},
		{"berlin autumn night", TimeWindow{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"},
			"2026-10-25 03:00", "2026-10-24 20:00", "2026-10-25 06:00", 10},
		// 02:30 does not exist on 2026-03-29 in Berlin: the window starts at the jump.
		{"berlin start in the gap", TimeWindow{Weekdays: []int{7}, Start: "02:30", End: "04:00", TimeZone: "Europe/Berlin"},
			"2026-03-29 01:30", "2026-03-29 01:00", "2026-03-29 02:00", 1},
		{"berlin end in the gap", TimeWindow{Weekdays: []int{7}, Start: "01:00", End: "02:30", TimeZone: "Europe/Berlin"},
			"2026-03-29 00:30", "2026-03-29 00:00", "2026-03-29 01:00", 1},
		// 02:30 happens twice on 2026-10-25 in Berlin (00:30 and 01:30 UTC): the first one counts.
		{"berlin start twice", TimeWindow{Weekdays: []int{7}, Start: "02:30", End: "04:00", TimeZone: "Europe/Berlin"},
			"2026-10-25 01:30", "2026-10-25 00:30", "2026-10-25 03:00", 2.5},
		{"berlin end twice", TimeWindow{Weekdays: []int{7}, Start: "01:00", End: "02:30", TimeZone: "Europe/Berlin"},
			"2026-10-25 00:00", "2026-10-24 23:00", "2026-10-25 00:30", 1.5},
		{"new york spring night", TimeWindow{Weekdays: []int{6}, Start: "22:00", End: "07:00", TimeZone: "America/New_York"},
			"2026-03-08 08:00", "2026-03-08 03:00", "2026-03-08 11:00", 8},
		{"new york autumn night", TimeWindow{Weekdays: []int{6}, Start: "22:00", End: "07:00", TimeZone: "America/New_York"},
			"2026-11-01 08:00", "2026-11-01 02:00", "2026-11-01 12:00", 10},
		{"new york start in the gap", TimeWindow{Weekdays: []int{7}, Start: "02:30", End: "03:30", TimeZone: "America/New_York"},
			"2026-03-08 07:10", "2026-03-08 07:00", "2026-03-08 07:30", 0.5},
		// 01:30 happens at 05:30 and 06:30 UTC on 2026-11-01 in New York.
		{"new york start twice", TimeWindow{Weekdays: []int{7}, Start: "01:30", End: "03:00", TimeZone: "America/New_York"},
			"2026-11-01 06:00", "2026-11-01 05:30", "2026-11-01 08:00", 2.5},
		{"new york end twice", TimeWindow{Weekdays: []int{7}, Start: "01:00", End: "01:30", TimeZone: "America/New_York"},
			"2026-11-01 05:10", "2026-11-01 05:00", "2026-11-01 05:30", 0.5},
		// Beirut springs forward at midnight (2026-03-28 22:00 UTC) and falls back at midnight to
		// 23:00 (2026-10-24 21:00 UTC): the date changes inside the gap and the overlap.
		{"beirut end in the gap at midnight", TimeWindow{Weekdays: []int{6}, Start: "23:00", End: "00:30", TimeZone: "Asia/Beirut"},
			"2026-03-28 21:30", "2026-03-28 21:00", "2026-03-28 22:00", 1},
		{"beirut start in the gap at midnight", TimeWindow{Weekdays: []int{7}, Start: "00:00", End: "02:00", TimeZone: "Asia/Beirut"},
			"2026-03-28 22:30", "2026-03-28 22:00", "2026-03-28 23:00", 1},
		{"beirut twice before midnight", TimeWindow{Weekdays: []int{6}, Start: "23:30", End: "00:00", TimeZone: "Asia/Beirut"},
			"2026-10-24 21:30", "2026-10-24 20:30", "2026-10-24 22:00", 1.5},
	}
	for _, c := range cases {
		q := quiet(t, c.w)
		from, till := utc(t, c.from), utc(t, c.till)
		if h := till.Sub(from).Hours(); h != c.hours {
			t.Fatalf("%s: bad case, %s to %s is %v hours, not %v", c.name, from, till, h, c.hours)
		}
		checkUntil(t, q, []untilCase{
			{c.name, utc(t, c.at), till},
			{c.name + " at start", from, till},
			{c.name + " before start", from.Add(-time.Second), time.Time{}},
			{c.name + " at end", till, time.Time{}},
		})
		loc, _ := time.LoadLocation(c.w.TimeZone)
		if !strings.Contains(c.name, "end in the gap") {
			if got := till.In(loc).Format("15:04"); got != c.w.End {
				t.Errorf("%s: ends when the clock reads %s, want %s", c.name, got, c.w.End)
			}
		}
	}
	// The second 02:30 in Berlin is after the window 01:00-02:30 ended at the first.
	q := quiet(t, TimeWindow{Weekdays: []int{7}, Start: "01:00", End: "02:30", TimeZone: "Europe/Berlin"})
	checkUntil(t, q, []untilCase{{"second 02:30", utc(t, "2026-10-25 01:30"), time.Time{}}})
}

func TestQuietHoursChain(t *testing.T) {
	// 2026-01-09 is a Friday. Mon-Fri 22:00-07:00 does not hold Monday morning: that would be a
	// window starting on Sunday. So the weekend ends at Monday 00:00...
	weekdayNights := TimeWindow{Weekdays: []int{1, 2, 3, 4, 5}, Start: "22:00", End: "07:00"}
	weekend := TimeWindow{Weekdays: []int{6, 7}, Start: "00:00", End: "24:00"}
	checkUntil(t, quiet(t, weekdayNights, weekend), []untilCase{
		{"friday night into the weekend", utc(t, "2026-01-09 23:00"), utc(t, "2026-01-12 00:00")},
		{"saturday noon", utc(t, "2026-01-10 12:00"), utc(t, "2026-01-12 00:00")},
		{"tuesday night", utc(t, "2026-01-06 23:00"), utc(t, "2026-01-07 07:00")},
	})
	// ... and with the Sunday night too, until Monday 07:00.
	everyNight := TimeWindow{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"}
	weekend.TimeZone = "Europe/Berlin"
	checkUntil(t, quiet(t, everyNight, weekend), []untilCase{
		{"friday night to monday morning", in(t, "Europe/Berlin", "2026-01-09 23:00"), in(t, "Europe/Berlin", "2026-01-12 07:00")},
	})

	// 00:00-06:00 UTC and 13:00-16:00 Shanghai (05:00-08:00 UTC) overlap.
	zones := quiet(t,
		TimeWindow{Start: "00:00", End: "06:00", TimeZone: "UTC"},
		TimeWindow{Start: "13:00", End: "16:00", TimeZone: "Asia/Shanghai"},
	)
	checkUntil(t, zones, []untilCase{
		{"utc into shanghai", utc(t, "2026-01-05 01:00"), utc(t, "2026-01-05 08:00")},
		{"shanghai alone", utc(t, "2026-01-05 07:00"), utc(t, "2026-01-05 08:00")},
	})
}

func TestQuietHoursForEverStops(t *testing.T) {
	always := quiet(t, TimeWindow{Start: "00:00", End: "24:00"})
	at := utc(t, "2026-01-05 12:00")
	got, ok := always.Until(at)
	if !ok || got.Before(at.AddDate(0, 0, 7)) {
		t.Errorf("always quiet: Until = %s, %v; want a bounded instant weeks ahead", got, ok)
	}
}

func TestCleanQuietHoursNormalises(t *testing.T) {
	if q, err := CleanQuietHours("quietHours", nil); err != nil || q == nil || len(q) != 0 {
		t.Fatalf("nil: %#v, %v; want an empty non-nil QuietHours", q, err)
	}
	input := []TimeWindow{
		{Weekdays: []int{5, 1, 5, 3}, Start: "22:00", End: "07:30", TimeZone: " Asia/Shanghai "},
		{Start: "00:00", End: "24:00"},
		{Weekdays: []int{}, Start: "22:00", End: "00:00", TimeZone: "UTC"},
	}
	q, err := CleanQuietHours("quietHours", input)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"weekdays":[1,3,5],"start":"22:00","end":"07:30","timeZone":"Asia/Shanghai"},` +
		`{"weekdays":[],"start":"00:00","end":"24:00","timeZone":"UTC"},` +
		`{"weekdays":[],"start":"22:00","end":"00:00","timeZone":"UTC"}]`
	if string(b) != want {
		t.Errorf("cleaned:\n got %s\nwant %s", b, want)
	}
	q[0].Weekdays[0] = 7
	if input[0].Weekdays[0] != 5 {
		t.Error("the cleaned weekdays share the caller's slice")
	}
}

func TestCleanQuietHoursRefuses(t *testing.T) {
	ok := TimeWindow{Start: "22:00", End: "07:00"}
	with := func(w TimeWindow) []TimeWindow { return []TimeWindow{ok, w} }
	cases := []struct {
		name  string
		in    []TimeWindow
		field string
		says  string
	}{
		{"too many", make([]TimeWindow, MaxQuietWindows+1), "quietHours", "at most 16"},
		{"weekday 0", with(TimeWindow{Weekdays: []int{1, 0}, Start: "22:00", End: "07:00"}), "quietHours[1].weekdays", "got 0"},
		{"weekday 8", with(TimeWindow{Weekdays: []int{8}, Start: "22:00", End: "07:00"}), "quietHours[1].weekdays", "got 8"},
		{"one-digit hour", with(TimeWindow{Start: "7:00", End: "08:00"}), "quietHours[1].start", ""},
		{"seconds", with(TimeWindow{Start: "07:00:00", End: "08:00"}), "quietHours[1].start", ""},
		{"space", with(TimeWindow{Start: " 07:00", End: "08:00"}), "quietHours[1].start", ""},
		{"letters", with(TimeWindow{Start: "ab:cd", End: "08:00"}), "quietHours[1].start", ""},
		{"sign", with(TimeWindow{Start: "+7:00", End: "08:00"}), "quietHours[1].start", ""},
		{"empty start", with(TimeWindow{End: "08:00"}), "quietHours[1].start", ""},
		{"minute 60", with(TimeWindow{Start: "07:60", End: "08:00"}), "quietHours[1].start", ""},
		{"start 24:00", with(TimeWindow{Start: "24:00", End: "08:00"}), "quietHours[1].start", "00:00"},
		{"end 24:01", with(TimeWindow{Start: "07:00", End: "24:01"}), "quietHours[1].end", ""},
		{"end 25:00", with(TimeWindow{Start: "07:00", End: "25:00"}), "quietHours[1].end", ""},
		{"empty end", with(TimeWindow{Start: "07:00"}), "quietHours[1].end", ""},
		{"start is end", with(TimeWindow{Start: "08:00", End: "08:00"}), "quietHours[1].end", "a whole day is 00:00 to 24:00"},
		{"midnight to midnight", with(TimeWindow{Start: "00:00", End: "00:00"}), "quietHours[1].end", "a whole day is 00:00 to 24:00"},
		{"local zone", with(TimeWindow{Start: "22:00", End: "07:00", TimeZone: "Local"}), "quietHours[1].timeZone", ""},
		{"unknown zone", with(TimeWindow{Start: "22:00", End: "07:00", TimeZone: "Mars/Olympus"}), "quietHours[1].timeZone", ""},
	}
	for _, c := range cases {
		q, err := CleanQuietHours("quietHours", c.in)
		e, isErr := AsError(err)
		if !isErr || e.Kind != KindInvalid || e.Field != c.field || !strings.Contains(e.Message, c.says) {
			t.Errorf("%s: CleanQuietHours = %v, %v; want an invalid %s saying %q", c.name, q, err, c.field, c.says)
		}
	}
}

// Until runs for every group on every alert accepted.
func TestQuietHoursUntilDoesNotAllocate(t *testing.T) {
	q := quiet(t,
		TimeWindow{Weekdays: []int{1, 2, 3, 4, 5}, Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"},
		TimeWindow{Weekdays: []int{6, 7}, Start: "00:00", End: "24:00", TimeZone: "Europe/Berlin"},
		TimeWindow{Start: "12:00", End: "13:00", TimeZone: "Asia/Shanghai"},
	)
	at := utc(t, "2026-01-09 23:00")
	q.Until(at) // loads the zones
	if n := testing.AllocsPerRun(100, func() { q.Until(at) }); n != 0 {
		t.Errorf("Until allocates %v times a call", n)
	}
}

func BenchmarkQuietHoursUntil(b *testing.B) {
	q := QuietHours{
		{Weekdays: []int{1, 2, 3, 4, 5}, Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin"},
		{Weekdays: []int{6, 7}, Start: "00:00", End: "24:00", TimeZone: "Europe/Berlin"},
	}
	at := time.Date(2026, 1, 9, 22, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		q.Until(at)
	}
}
