package pattern

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// benchRules are ten typical rules: --exclude style fm: patterns and a
// patterns file mixing sh:, re:, pp: and pf:.
var benchRules = []string{
	"! fm:*.tmp",
	"! fm:home/*/.cache",
	"- sh:**/node_modules",
	"- sh:home/*/Downloads/**",
	`- re:\.iso(?i)$`,
	"! pp:var/cache",
	"+ pf:etc/shadow",
	"! fm:*/.git/objects",
	"- sh:**/*.o",
	"! re:^(dev|proc|run|sys|tmp)",
}

var (
	benchPathsOnce sync.Once
	benchPathsList []string
	benchPathsLen  int
)

// benchPaths returns one million deterministic archive paths shaped like a
// home/system backup.
func benchPaths() ([]string, int) {
	benchPathsOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		tops := []string{"home/alice", "home/bob", "etc", "usr/lib/x86_64-linux-gnu", "var/lib/dpkg", "srv/www", "var/cache/apt"}
		dirs := []string{"src", "Documents", ".cache/mozilla", "projects/gobak/pkg/pattern", "Downloads", "node_modules/left-pad", ".git/objects/ab", "photos/2018/good", "build/obj"}
		exts := []string{".go", ".txt", ".jpg", ".o", ".tmp", ".ISO", ".conf", ""}
		var total int
		benchPathsList = make([]string, 1_000_000)
		for i := range benchPathsList {
			var b strings.Builder
			b.WriteString(tops[rng.IntN(len(tops))])
			for range rng.IntN(3) {
				b.WriteByte('/')
				b.WriteString(dirs[rng.IntN(len(dirs))])
			}
			fmt.Fprintf(&b, "/file%d%s", rng.IntN(100000), exts[rng.IntN(len(exts))])
			benchPathsList[i] = b.String()
			total += b.Len()
		}
		benchPathsLen = total / len(benchPathsList)
	})
	return benchPathsList, benchPathsLen
}

// BenchmarkMatcher runs the ten benchRules over one million paths; one op is
// one path, so ns/op is the cost of a full Excluded decision.
func BenchmarkMatcher(b *testing.B) {
	rules, _, err := ParseFile(strings.NewReader(strings.Join(benchRules, "\n")), Shell)
	if err != nil {
		b.Fatal(err)
	}
	m := NewMatcher(rules...)
	paths, avg := benchPaths()
	b.SetBytes(int64(avg))
	excluded := 0
	i := 0
	for b.Loop() {
		if ex, _ := m.Excluded(paths[i]); ex {
			excluded++
		}
		if i++; i == len(paths) {
			i = 0
		}
	}
	if excluded == 0 {
		b.Fatal("nothing excluded")
	}
}

// BenchmarkPattern measures single patterns of each kind over the same paths.
func BenchmarkPattern(b *testing.B) {
	paths, avg := benchPaths()
	for _, s := range []string{
		"fm:*.tmp",
		"fm:home/*/.cache",
		"sh:**/node_modules",
		"sh:home/*/Downloads/**",
		`re:\.iso(?i)$`,
		"pp:var/cache",
		"pf:etc/shadow",
	} {
		p := mustParse(b, s, "")
		b.Run(s, func(b *testing.B) {
			b.SetBytes(int64(avg))
			i := 0
			for b.Loop() {
				p.Match(paths[i])
				if i++; i == len(paths) {
					i = 0
				}
			}
		})
	}
}
