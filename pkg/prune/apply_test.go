package prune

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin etc. without a system zoneinfo

	"github.com/gobak/gobak/pkg/id"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// at parses "2006-01-02 15:04:05" in loc.
func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// named makes archives named after their UTC time.
func named(times ...time.Time) []Archive {
	out := make([]Archive, len(times))
	for i, tm := range times {
		out[i] = Archive{Name: tm.UTC().Format("2006-01-02T15:04:05Z"), Time: tm, ID: id.Hash([]byte(fmt.Sprint(i, tm)))}
	}
	return out
}

// series makes n archives, step apart, from start.
func series(start time.Time, step time.Duration, n int) []Archive {
	times := make([]time.Time, n)
	for i := range times {
		times[i] = start.Add(time.Duration(i) * step)
	}
	return named(times...)
}

// mixed is an irregular two-year history: one archive every 7 hours 13
// minutes.
func mixed(t *testing.T) []Archive {
	t.Helper()
	return series(at(t, time.UTC, "2023-01-01 00:30:00"), 7*time.Hour+13*time.Minute, 2*365*24/7)
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// render writes the decisions as a golden file: only kept archives, in
// order, then the number pruned.
func render(p Policy, loc *time.Location, ds []Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %+v tz %s\n", p, loc)
	pruned := 0
	for _, d := range ds {
		if d.Keep {
			fmt.Fprintf(&b, "keep %s %s #%d\n", d.Archive.Name, d.Label(), d.N)
		} else {
			pruned++
		}
	}
	fmt.Fprintf(&b, "pruned %d of %d\n", pruned, len(ds))
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

type goldenCase struct {
	name     string
	archives []Archive
	policy   Policy
	now      time.Time
	loc      *time.Location
}

func TestGolden(t *testing.T) {
	utc := time.UTC
	ber := berlin(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	mix := mixed(t)
	mixNow := mix[len(mix)-1].Time.Add(time.Hour)
	daily91 := series(at(t, utc, "2024-01-01 03:00:00"), 24*time.Hour, 91)
	isoWeeks := named(
		at(t, utc, "2020-12-20 12:00:00"), at(t, utc, "2020-12-27 12:00:00"),
		at(t, utc, "2020-12-28 12:00:00"), at(t, utc, "2020-12-31 12:00:00"),
		at(t, utc, "2021-01-01 12:00:00"), at(t, utc, "2021-01-03 12:00:00"),
		at(t, utc, "2021-01-04 12:00:00"), at(t, utc, "2021-01-10 12:00:00"),
		at(t, utc, "2021-01-11 12:00:00"),
	)
	boundaries := named(
		at(t, utc, "2022-12-31 23:59:59"), at(t, utc, "2023-01-01 00:00:00"),
		at(t, utc, "2023-01-31 23:59:59"), at(t, utc, "2023-02-01 00:00:00"),
		at(t, utc, "2023-12-31 23:59:59"), at(t, utc, "2024-01-01 00:00:00"),
		at(t, utc, "2024-02-28 12:00:00"), at(t, utc, "2024-02-29 12:00:00"),
		at(t, utc, "2024-03-01 00:00:00"),
	)
	springDST := series(at(t, utc, "2024-03-30 23:00:00"), 30*time.Minute, 9)
	fallDST := series(at(t, utc, "2024-10-26 22:00:00"), 30*time.Minute, 11)
	same := at(t, utc, "2024-05-05 05:05:05")
	identical := []Archive{
		{Name: "c", Time: same}, {Name: "a", Time: same}, {Name: "b", Time: same},
		{Name: "d", Time: same.Add(-time.Second)}, {Name: "e", Time: same.Add(-24 * time.Hour)},
	}
	gaps := named(
		at(t, utc, "2024-06-01 10:00:00"), at(t, utc, "2024-06-01 11:00:00"),
		at(t, utc, "2024-06-04 10:00:00"), at(t, utc, "2024-06-10 10:00:00"),
		at(t, utc, "2024-06-10 22:00:00"), at(t, utc, "2024-08-15 10:00:00"),
		at(t, utc, "2025-01-02 10:00:00"),
	)
	gapsNow := at(t, utc, "2025-01-03 00:00:00")
	nearMidnight := named(
		at(t, utc, "2024-07-01 02:00:00"), at(t, utc, "2024-07-01 05:00:00"),
		at(t, utc, "2024-07-02 02:00:00"), at(t, utc, "2024-07-02 05:00:00"),
		at(t, utc, "2024-07-03 02:00:00"),
	)

	cases := []goldenCase{
		{"mixed_last", mix, Policy{Last: 5}, mixNow, utc},
		{"mixed_secondly", mix, Policy{Secondly: 5}, mixNow, utc},
		{"mixed_minutely", mix, Policy{Minutely: 4}, mixNow, utc},
		{"mixed_hourly", mix, Policy{Hourly: 6}, mixNow, utc},
		{"mixed_daily", mix, Policy{Daily: 10}, mixNow, utc},
		{"mixed_weekly", mix, Policy{Weekly: 8}, mixNow, utc},
		{"mixed_monthly", mix, Policy{Monthly: 12}, mixNow, utc},
		{"mixed_yearly", mix, Policy{Yearly: 5}, mixNow, utc},
		{"mixed_within", mix, Policy{Within: 3 * 24 * time.Hour}, mixNow, utc},
		{"mixed_combined", mix, Policy{Within: 2 * 24 * time.Hour, Last: 3, Hourly: 4, Daily: 7, Weekly: 4, Monthly: 6, Yearly: 3}, mixNow, utc},
		{"mixed_combined_berlin", mix, Policy{Daily: 7, Weekly: 4, Monthly: 6, Yearly: -1}, mixNow, ber},
		{"mixed_negative_daily", mix, Policy{Daily: -1}, mixNow, utc},
		{"mixed_negative_monthly_weekly", mix, Policy{Weekly: 2, Monthly: -1}, mixNow, utc},
		{"mandated_91_days", daily91, Policy{Daily: 7, Weekly: 4, Monthly: 3}, daily91[90].Time, utc},
		{"iso_weeks", isoWeeks, Policy{Weekly: 4}, isoWeeks[8].Time, utc},
		{"iso_weeks_yearly", isoWeeks, Policy{Yearly: 3}, isoWeeks[8].Time, utc},
		{"iso_weeks_daily_weekly", isoWeeks, Policy{Daily: 2, Weekly: 3}, isoWeeks[8].Time, utc},
		{"boundaries_monthly", boundaries, Policy{Monthly: 6}, gapsNow, utc},
		{"boundaries_yearly", boundaries, Policy{Yearly: 2}, gapsNow, utc},
		{"boundaries_daily_unlimited", boundaries, Policy{Daily: -1}, gapsNow, utc},
		{"dst_spring_hourly_berlin", springDST, Policy{Hourly: -1}, gapsNow, ber},
		{"dst_fall_hourly_berlin", fallDST, Policy{Hourly: -1}, gapsNow, ber},
		{"dst_fall_hourly3_berlin", fallDST, Policy{Hourly: 3}, gapsNow, ber},
		{"identical_times_secondly", identical, Policy{Secondly: 2}, gapsNow, utc},
		{"identical_times_daily", identical, Policy{Daily: 2}, gapsNow, utc},
		{"empty_periods_daily", gaps, Policy{Daily: 5}, gapsNow, utc},
		{"empty_periods_weekly_monthly", gaps, Policy{Weekly: 2, Monthly: 3}, gapsNow, utc},
		{"oldest_already_kept", gaps, Policy{Hourly: 3, Daily: 10}, gapsNow, utc},
		{"count_above_archives", gaps, Policy{Yearly: 10}, gapsNow, utc},
		{"within_and_daily", gaps, Policy{Within: 200 * 24 * time.Hour, Daily: 1}, gapsNow, utc},
		{"timezone_utc", nearMidnight, Policy{Daily: 3}, gapsNow, utc},
		{"timezone_new_york", nearMidnight, Policy{Daily: 3}, gapsNow, ny},
		{"empty_input", nil, Policy{Daily: 3}, gapsNow, utc},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := Apply(c.archives, c.policy, c.now, c.loc)
			if len(ds) != len(c.archives) {
				t.Fatalf("%d decisions for %d archives", len(ds), len(c.archives))
			}
			checkGolden(t, c.name, render(c.policy, c.loc, ds))
		})
	}
}

// TestMandated checks the case without golden files.
func TestMandated(t *testing.T) {
	archives := series(at(t, time.UTC, "2024-01-01 03:00:00"), 24*time.Hour, 91)
	if got := archives[90].Time.Format("2006-01-02"); got != "2024-03-31" {
		t.Fatalf("last archive on %s", got)
	}
	ds := Apply(archives, Policy{Daily: 7, Weekly: 4, Monthly: 3}, archives[90].Time, time.UTC)
	var got []string
	for _, d := range ds {
		if d.Keep {
			got = append(got, fmt.Sprintf("%s %s #%d", d.Archive.Time.Format("01-02"), d.Label(), d.N))
		}
	}
	want := []string{
		"03-31 daily #1", "03-30 daily #2", "03-29 daily #3", "03-28 daily #4",
		"03-27 daily #5", "03-26 daily #6", "03-25 daily #7",
		"03-24 weekly #1", "03-17 weekly #2", "03-10 weekly #3", "03-03 weekly #4",
		"02-29 monthly #1", "01-31 monthly #2", "01-01 monthly[oldest] #3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kept:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyProperties(t *testing.T) {
	mix := mixed(t)
	now := mix[len(mix)-1].Time
	tests := []struct {
		name string
		p    Policy
	}{
		{"empty", Policy{}},
		{"last equals secondly", Policy{Last: 7}},
		{"unlimited", Policy{Daily: -1, Weekly: -1}},
		{"combined", Policy{Daily: 3, Monthly: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]Archive(nil), mix...)
			ds := Apply(in, tt.p, now, time.UTC)
			for i := range in {
				if in[i] != mix[i] {
					t.Fatal("Apply modified its input")
				}
			}
			for i := 1; i < len(ds); i++ {
				if ds[i].Archive.Time.After(ds[i-1].Archive.Time) {
					t.Fatalf("decisions not newest first at %d", i)
				}
			}
			counts := map[string]int{}
			for _, d := range ds {
				if d.Keep != (d.Rule != "") || d.Keep != (d.N > 0) {
					t.Fatalf("inconsistent decision %+v", d)
				}
				if d.Keep {
					counts[d.Rule]++
					if d.N != counts[d.Rule] {
						t.Fatalf("%s: number %d, want %d", d.Archive.Name, d.N, counts[d.Rule])
					}
				}
			}
			if tt.p.Empty() && len(counts) != 0 {
				t.Errorf("empty policy kept %v", counts)
			}
		})
	}
	a := Apply(mix, Policy{Last: 7}, now, time.UTC)
	b := Apply(mix, Policy{Secondly: 7}, now, time.UTC)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("keep-last differs from keep-secondly at %d: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func TestParseWithin(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"1H", time.Hour, true},
		{"36H", 36 * time.Hour, true},
		{"2d", 48 * time.Hour, true},
		{"1w", 7 * 24 * time.Hour, true},
		{"1m", 31 * 24 * time.Hour, true},
		{"1y", 365 * 24 * time.Hour, true},
		{"", 0, false},
		{"d", 0, false},
		{"0d", 0, false},
		{"-1d", 0, false},
		{"+1d", 0, false},
		{"1.5d", 0, false},
		{"1D", 0, false},
		{"1M", 0, false},
		{"1S", 0, false},
		{"5", 0, false},
		{"99999999999999999999d", 0, false},
		{"292y", 292 * 365 * 24 * time.Hour, true},
		{"293y", 0, false},
		{"700y", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWithin(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseWithin(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if got != tt.want {
				t.Errorf("ParseWithin(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseWithin(f *testing.F) {
	for _, s := range []string{"1H", "7d", "2w", "3m", "1y", "", "x", "0d", "-3d", "1048577y", "1e3d", "700y", "292y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseWithin(s)
		if err != nil {
			return
		}
		if d <= 0 {
			t.Fatalf("ParseWithin(%q) = %v without error", s, d)
		}
		// A valid interval is canonical digits-plus-unit: re-rendering the
		// parsed number gives back a value that parses the same.
		unit := intervalUnits[s[len(s)-1]]
		again, err := ParseWithin(fmt.Sprintf("%d%c", d/unit, s[len(s)-1]))
		if err != nil || again != d {
			t.Fatalf("re-parse of %q: %v, %v", s, again, err)
		}
	})
}
