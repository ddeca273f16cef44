package main

import (
	"strings"
	"testing"
)

// Repair of a repository without encryption (deterministic sealing: new
// packs and index files can have the names of old ones), for damage of
// each kind, twice in a row, then a healing create.
func TestReviewRepairNoneEncryption(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(t *testing.T, r *repairRepo)
		lost  map[string]bool
	}{
		{"data blob bit", func(t *testing.T, r *repairRepo) { flipVictim(t, r.checkRepo) }, map[string]bool{"victim.bin": true}},
		{"trailer bit", func(t *testing.T, r *repairRepo) {
			p, _, _ := r.victimPack(t)
			flipAt(t, p, -20)
		}, nil},
		{"tree blob bit", func(t *testing.T, r *repairRepo) {
			p, off, n := r.blobFile(t, r.subTree(t))
			flipAt(t, p, off+n/2)
		}, map[string]bool{"dir/sub/a.txt": true, "dir/sub/b.bin": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			r := &repairRepo{checkRepo: &checkRepo{c: c, repo: c.initRepo("repo", "--encryption", "none"), victim: randomBytes(200<<10, 7)}, src: c.path("src")}
			r.files = map[string]string{
				"victim.bin":    string(r.victim),
				"good.txt":      strings.Repeat("all is well\n", 100),
				"dir/sub/a.txt": strings.Repeat("nested file\n", 50),
				"dir/sub/b.bin": string(randomBytes(100<<10, 13)),
			}
			writeFiles(t, r.src, r.files)
			for _, name := range []string{"a", "b"} {
				res := c.runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::"+name, ".")
				if res.code != exitOK {
					t.Fatalf("create %s:\n%s", name, res)
				}
			}
			tc.fault(t, r)
			for i := range 2 {
				res := c.with(t).run(withPass, "check", "--repair", "--yes", "--verify-data", r.repo)
				if res.code == exitError {
					t.Errorf("repair %d:\n%s", i, res)
				}
				r.check(t, exitOK, "--verify-data")
			}
			for _, n := range []string{"a", "b"} {
				r.extractAndCompare(t, n, tc.lost)
			}
			res := c.runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::healed", ".")
			if res.code != exitOK {
				t.Fatalf("create:\n%s", res)
			}
			if x := r.extractAndCompare(t, "healed", nil); x.code != exitOK {
				t.Errorf("not healed:\n%s", x)
			}
			r.check(t, exitOK, "--verify-data")
		})
	}
}
