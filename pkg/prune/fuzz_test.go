package prune

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// FuzzApply checks Apply's invariants on arbitrary histories: every rule
// keeps at most its count, never two archives of one period (but for its
// "oldest" one), and the decisions cover the input newest first.
func FuzzApply(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, int8(2), int8(1), int8(3), int8(0))
	f.Add([]byte("a history of archives at odd times"), int8(-1), int8(0), int8(2), int8(5))
	f.Add([]byte{}, int8(1), int8(1), int8(1), int8(1))
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, daily, weekly, monthly, hourly int8) {
		base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		var archives []Archive
		for i := 0; i+2 <= len(data) && len(archives) < 200; i += 2 {
			off := time.Duration(binary.LittleEndian.Uint16(data[i:])) * 37 * time.Minute
			archives = append(archives, Archive{Name: string(rune('a' + i%26)), Time: base.Add(off), ID: id.Hash(data[i : i+2])})
		}
		p := Policy{Hourly: int(hourly), Daily: int(daily), Weekly: int(weekly), Monthly: int(monthly)}
		ds := Apply(archives, p, base, loc)
		if len(ds) != len(archives) {
			t.Fatalf("%d decisions for %d archives", len(ds), len(archives))
		}
		rules := map[string]periodRule{}
		for _, r := range p.rules() {
			rules[r.name] = r
		}
		perRule := map[string]int{}
		periods := map[string]bool{}
		for i, d := range ds {
			if i > 0 && d.Archive.Time.After(ds[i-1].Archive.Time) {
				t.Fatal("not newest first")
			}
			if !d.Keep {
				continue
			}
			r, ok := rules[d.Rule]
			if !ok || r.count == 0 {
				t.Fatalf("kept by unknown or disabled rule %q", d.Rule)
			}
			perRule[d.Rule]++
			if d.N != perRule[d.Rule] || (r.count > 0 && d.N > r.count) {
				t.Fatalf("%s #%d (count %d, seen %d)", d.Rule, d.N, r.count, perRule[d.Rule])
			}
			if d.Oldest {
				if i != len(ds)-1 {
					t.Fatalf("oldest keep on archive %d of %d", i, len(ds))
				}
				continue
			}
			k := d.Rule + " " + r.key(d.Archive.Time.In(loc))
			if periods[k] {
				t.Fatalf("two archives kept for period %s", k)
			}
			periods[k] = true
		}
	})
}
