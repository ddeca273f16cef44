package check

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

func TestParseSubset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Subset
		bad  bool
	}{
		{in: "1/3", want: Subset{Part: 1, Parts: 3}},
		{in: " 3/3 ", want: Subset{Part: 3, Parts: 3}},
		{in: "10%", want: Subset{Percent: 10, Rotation: 7}},
		{in: "2.5%", want: Subset{Percent: 2.5, Rotation: 7}},
		{in: "100%", want: Subset{Percent: 100, Rotation: 7}},
		{in: "0/3", bad: true},
		{in: "4/3", bad: true},
		{in: "1/0", bad: true},
		{in: "0%", bad: true},
		{in: "101%", bad: true},
		{in: "NaN%", bad: true},
		{in: "-5%", bad: true},
		{in: "abc", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSubset(tt.in, 7)
			if tt.bad {
				if !errors.Is(err, ErrBadSubset) {
					t.Errorf("ParseSubset(%q) = %+v, %v; want ErrBadSubset", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseSubset(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func randomPacks(n int) []id.ID {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]id.ID, n)
	for i := range out {
		for j := range out[i] {
			out[i][j] = byte(rng.Uint32())
		}
	}
	return out
}

func TestSubsetCoverage(t *testing.T) {
	t.Parallel()
	packs := randomPacks(5000)
	t.Run("parts partition", func(t *testing.T) {
		for _, m := range []uint64{1, 2, 3, 7, 52} {
			for _, p := range packs {
				n := 0
				for k := uint64(1); k <= m; k++ {
					if (Subset{Part: k, Parts: m}).Selects(p) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("pack %s is in %d of %d parts", p.Short(), n, m)
				}
			}
		}
	})
	t.Run("percent rotations cover", func(t *testing.T) {
		for _, pct := range []float64{1, 10, 14.3, 33, 50, 99} {
			r := uint64(0)
			for float64(r)*pct < 100 {
				r++
			}
			seen := map[id.ID]bool{}
			selected := 0
			for rot := uint64(100); rot < 100+r; rot++ { // any r successive rotations
				s := Subset{Percent: pct, Rotation: rot}
				for _, p := range packs {
					if s.Selects(p) {
						seen[p] = true
						selected++
					}
				}
			}
			if len(seen) != len(packs) {
				t.Errorf("%v%%: %d rotations cover %d of %d packs", pct, r, len(seen), len(packs))
			}
			if share := float64(selected) / float64(r) / float64(len(packs)) * 100; share < pct*0.8 || share > pct*1.2 {
				t.Errorf("%v%%: a run selects %.1f%% of packs", pct, share)
			}
		}
	})
	t.Run("zero selects nothing", func(t *testing.T) {
		if (Subset{}).Selects(packs[0]) {
			t.Error("zero Subset selects a pack")
		}
	})
}

func FuzzParseSubset(f *testing.F) {
	for _, s := range []string{"1/3", "10%", "2.5%", "100%", "0/0", "x", "1e2%", "18446744073709551615/18446744073709551615", "%"} {
		f.Add(s, uint64(5))
	}
	pack := randomPacks(1)[0]
	f.Fuzz(func(t *testing.T, s string, rot uint64) {
		sub, err := ParseSubset(s, rot)
		if err != nil {
			return
		}
		again, err := ParseSubset(sub.String(), rot)
		if err != nil {
			t.Fatalf("ParseSubset(%q) = %+v, whose String %q does not parse: %v", s, sub, sub.String(), err)
		}
		if again.Parts != sub.Parts || again.Part != sub.Part {
			t.Fatalf("round trip %+v -> %+v", sub, again)
		}
		sub.Selects(pack) // must not panic
	})
}
