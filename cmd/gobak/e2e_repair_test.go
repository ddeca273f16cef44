package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
)

// repairRepo is a repository with archives "a" and "b" of the same source
// tree, made by gobak create, for fault injection and repair.
type repairRepo struct {
	*checkRepo
	src   string
	files map[string]string // relative path -> content
}

func newRepairRepo(t *testing.T) *repairRepo {
	t.Helper()
	c := newCLI(t)
	r := &repairRepo{checkRepo: &checkRepo{c: c, repo: c.initRepo("repo"), victim: randomBytes(200<<10, 7)}, src: c.path("src")}
	r.files = map[string]string{
		"victim.bin":     string(r.victim),
		"good.txt":       strings.Repeat("all is well\n", 100),
		"big.bin":        string(randomBytes(3<<20, 11)),
		"dir/sub/a.txt":  strings.Repeat("nested file\n", 50),
		"dir/sub/b.bin":  string(randomBytes(100<<10, 13)),
		"dir/other.conf": "key = value\n",
	}
	writeFiles(t, r.src, r.files)
	for _, name := range []string{"a", "b"} {
		res := c.runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::"+name, ".")
		if res.code != exitOK {
			t.Fatalf("create %s:\n%s", name, res)
		}
	}
	return r
}

// blobFile returns the pack path, offset and length of blob b.
func (r *repairRepo) blobFile(t *testing.T, b id.ID) (string, int, int) {
	t.Helper()
	lr := r.c.with(t).libRepo(r.repo)
	defer lr.Close()
	loc, ok, err := lr.Lookup(b)
	if err != nil || !ok {
		t.Fatalf("lookup %s: %v %v", b.Short(), ok, err)
	}
	p := loc.Pack.String()
	return filepath.Join(r.repo, "data", p[:2], p), int(loc.Offset), int(loc.Length)
}

// subTree returns the tree blob ID of directory dir/sub.
func (r *repairRepo) subTree(t *testing.T) id.ID {
	t.Helper()
	ctx := context.Background()
	lr := r.c.with(t).libRepo(r.repo)
	defer lr.Close()
	list, _, err := archive.ListArchives(ctx, lr)
	if err != nil || len(list) == 0 {
		t.Fatalf("list: %v", err)
	}
	tree := list[0].Record.TreeID()
	for _, name := range []string{"dir", "sub"} {
		nodes, err := archive.LoadTree(ctx, lr, tree)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range nodes {
			if string(n.Name) == name {
				tree, found = n.SubtreeID(), true
			}
		}
		if !found {
			t.Fatalf("no %s in tree", name)
		}
	}
	return tree
}

// extractAndCompare extracts archive name and checks that every file not
// in lost is byte-exact, and every file in lost is missing or has the
// original size. It returns the extract result.
func (r *repairRepo) extractAndCompare(t *testing.T, name string, lost map[string]bool) result {
	t.Helper()
	dest := r.c.path("x-" + name + "-" + strings.ReplaceAll(t.Name(), "/", "_"))
	res := r.c.with(t).run(withPass, "extract", "--destination", dest, r.repo+"::"+name)
	for p, want := range r.files {
		got, err := os.ReadFile(filepath.Join(dest, p))
		switch {
		case lost[p]:
			if err == nil && len(got) != len(want) {
				t.Errorf("archive %s: damaged %s has %d bytes, want %d (zero-filled)", name, p, len(got), len(want))
			}
		case err != nil || string(got) != want:
			t.Errorf("archive %s: undamaged %s not restored byte-exact (%d bytes, %v)\n%s", name, p, len(got), err, res)
		}
	}
	return res
}

func TestRepairFaults(t *testing.T) {
	t.Parallel()
	victimLost := map[string]bool{"victim.bin": true}
	subLost := map[string]bool{"dir/sub/a.txt": true, "dir/sub/b.bin": true}
	tests := []struct {
		name      string
		fault     func(t *testing.T, r *repairRepo)
		args      []string // of check and check --repair
		checkWant []string // in check's stdout
		// repairCode is the exit code of check --repair; lost the files
		// that lose data; gone the archives whose record is deleted.
		repairCode int
		lost       map[string]bool
		gone       map[string]bool
	}{
		{"data blob bit", func(t *testing.T, r *repairRepo) { flipVictim(t, r.checkRepo) }, []string{"--verify-data"},
			[]string{"damage: blob-damaged:", `archive "a" paths "victim.bin"`, `archive "b" paths "victim.bin"`}, exitWarning, victimLost, nil},
		{"tree blob bit", func(t *testing.T, r *repairRepo) {
			p, off, n := r.blobFile(t, r.subTree(t))
			flipAt(t, p, off+n/2)
		}, []string{"--verify-data"}, []string{"damage: blob-damaged:", `paths "dir/sub"`}, exitWarning, subLost, nil},
		{"tree blob bit, no verify-data", func(t *testing.T, r *repairRepo) {
			p, off, n := r.blobFile(t, r.subTree(t))
			flipAt(t, p, off+n/2)
		}, nil, []string{"damage: tree:", `paths "dir/sub"`}, exitWarning, subLost, nil},
		{"pack trailer bit", func(t *testing.T, r *repairRepo) {
			p, _, _ := r.victimPack(t)
			flipAt(t, p, -20)
		}, nil, []string{"damage: pack-trailer:"}, exitOK, nil, nil},
		{"index file bit", func(t *testing.T, r *repairRepo) {
			m, _ := filepath.Glob(filepath.Join(r.repo, "index", "*"))
			for _, f := range m {
				flipAt(t, f, -20)
			}
		}, nil, []string{"damage: index-file:"}, exitOK, nil, nil},
		{"archive record bit", func(t *testing.T, r *repairRepo) {
			lr := r.c.with(t).libRepo(r.repo)
			list, _, err := archive.ListArchives(context.Background(), lr)
			lr.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				if e.Record.Name == "a" {
					flipAt(t, filepath.Join(r.repo, "archives", e.ID.String()), 40)
				}
			}
		}, nil, []string{"damage: archive-record:"}, exitWarning, nil, map[string]bool{"a": true}},
		{"config bit", func(t *testing.T, r *repairRepo) {
			path := filepath.Join(r.repo, "config")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			flipAt(t, path, bytes.Index(data, []byte(`"body": "`))+20)
		}, nil, []string{"damage: config:"}, exitOK, nil, nil},
		{"truncated pack", func(t *testing.T, r *repairRepo) {
			p, off, _ := r.victimPack(t)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			replaceFile(t, p, data[:off+10])
		}, nil, []string{"damage: pack-trailer:", `paths "victim.bin"`}, exitWarning, nil, nil},
		{"deleted pack", func(t *testing.T, r *repairRepo) {
			p, _, _ := r.victimPack(t)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"damage: missing-pack:", `archive "a" paths "victim.bin"`}, exitWarning, nil, nil},
		{"deleted index files", func(t *testing.T, r *repairRepo) {
			m, _ := filepath.Glob(filepath.Join(r.repo, "index", "*"))
			for _, f := range m {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}, nil, []string{"damage: missing-blob:", "index rebuild recovers it"}, exitOK, nil, nil},
		{"junk under data", func(t *testing.T, r *repairRepo) {
			dir := filepath.Join(r.repo, "data", "00")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "00"+strings.Repeat("ab", 31)), []byte("junk"), 0o400); err != nil {
				t.Fatal(err)
			}
		}, nil, []string{"warning: orphan-pack:"}, exitOK, nil, nil},
		{"blobs swapped between packs", func(t *testing.T, r *repairRepo) {
			// victim.bin's data blob and dir/sub's tree blob trade places
			// (as many bytes as the shorter of the two).
			pa, offA, nA := r.victimPack(t)
			pb, offB, nB := r.blobFile(t, r.subTree(t))
			if pa == pb {
				t.Fatal("data and tree blob in one pack")
			}
			a, errA := os.ReadFile(pa)
			b, errB := os.ReadFile(pb)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			n := min(nA, nB)
			tmp := bytes.Clone(a[offA : offA+n])
			copy(a[offA:offA+n], b[offB:offB+n])
			copy(b[offB:offB+n], tmp)
			replaceFile(t, pa, a)
			replaceFile(t, pb, b)
		}, []string{"--verify-data"}, []string{"damage: blob-damaged:", `paths "victim.bin"`, `paths "dir/sub"`}, exitWarning,
			map[string]bool{"victim.bin": true, "dir/sub/a.txt": true, "dir/sub/b.bin": true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRepairRepo(t)
			tt.fault(t, r)
			lost := tt.lost
			if tt.name == "truncated pack" || tt.name == "deleted pack" {
				// Whatever shared the victim's pack is lost too: the
				// source files of the data pack (tree packs are separate).
				lost = map[string]bool{}
				for p := range r.files {
					lost[p] = true
				}
			}

			// check finds the damage and changes nothing.
			before := repoSnapshot(t, r.repo)
			want := exitError
			if tt.name == "junk under data" {
				want = exitWarning
			}
			res := r.check(t, want, tt.args...)
			for _, w := range tt.checkWant {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("check stdout lacks %q:\n%s", w, res)
				}
			}
			if after := repoSnapshot(t, r.repo); after != before {
				t.Errorf("check without --repair changed the repository")
			}

			// Without confirmation, --repair changes nothing.
			res = r.c.with(t).runWith(runOpts{env: map[string]string{"GOBAK_PASSPHRASE": pass}, stdin: "no\n"},
				append([]string{"check", "--repair"}, append(tt.args, r.repo)...)...)
			if res.code != exitError || !strings.Contains(res.stderr, "not confirmed") {
				t.Errorf("unconfirmed repair:\n%s", res)
			}
			if after := repoSnapshot(t, r.repo); after != before {
				t.Errorf("unconfirmed --repair changed the repository")
			}

			res = r.c.with(t).runWith(runOpts{env: map[string]string{"GOBAK_PASSPHRASE": pass}, stdin: "YES\n"},
				append([]string{"check", "--repair"}, append(tt.args, r.repo)...)...)
			if res.code != tt.repairCode {
				t.Errorf("check --repair: want exit %d:\n%s", tt.repairCode, res)
			}
			if !strings.Contains(res.stdout, "repair: ") {
				t.Errorf("check --repair says nothing it did:\n%s", res)
			}
			// A full check now passes.
			r.check(t, exitOK, "--verify-data")

			for _, name := range []string{"a", "b"} {
				if tt.gone[name] {
					list := r.c.with(t).ok(withPass, "list", r.repo)
					if strings.Contains(list.stdout, name+" ") {
						t.Errorf("archive %s still listed:\n%s", name, list)
					}
					continue
				}
				xres := r.extractAndCompare(t, name, lost)
				wantX := exitOK
				if len(tt.lost) > 0 {
					wantX = exitWarning
				}
				if tt.name == "truncated pack" || tt.name == "deleted pack" {
					wantX = xres.code // depends on what shared the pack
				}
				if xres.code != wantX {
					t.Errorf("extract %s after repair: want exit %d:\n%s", name, wantX, xres)
				}
				for p := range tt.lost {
					if !strings.Contains(xres.stderr, p) && !strings.Contains(xres.stderr, filepath.Dir(p)) {
						t.Errorf("extract %s: no warning names %s:\n%s", name, p, xres)
					}
				}
			}

			// A new backup of the intact source heals: every file of the
			// new archive is byte-exact and the repository checks clean.
			res = r.c.with(t).runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::healed", ".")
			if res.code != exitOK {
				t.Fatalf("create after repair:\n%s", res)
			}
			if x := r.extractAndCompare(t, "healed", nil); x.code != exitOK {
				t.Errorf("extract healed:\n%s", x)
			}
			r.check(t, exitOK, "--verify-data")
		})
	}
}

func TestRepairKeyDamaged(t *testing.T) {
	t.Parallel()
	r := newRepairRepo(t)
	exported := r.c.path("exported.key")
	r.c.with(t).ok(withPass, "key", "export", r.repo, exported)
	keys := keyFiles(t, r.repo)
	if len(keys) != 1 {
		t.Fatalf("keys: %v", keys)
	}
	data, err := os.ReadFile(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	flipAt(t, keys[0], bytes.Index(data, []byte(`"data": "`))+12)
	r.check(t, exitError)
	res := r.c.with(t).run(withPass, "check", "--repair", "--yes", r.repo)
	checkExit(t, res, exitError, "key import")
	// The key cannot be rebuilt; restoring the export repairs it.
	if err := os.Remove(keys[0]); err != nil {
		t.Fatal(err)
	}
	r.c.with(t).ok(withPass, "key", "import", r.repo, exported)
	r.check(t, exitOK, "--verify-data")
	r.extractAndCompare(t, "a", nil)
}

func TestRepairHealthy(t *testing.T) {
	t.Parallel()
	r := newRepairRepo(t)
	before := repoSnapshot(t, r.repo)
	res := r.c.with(t).run(withPass, "check", "--repair", "--yes", "--verify-data", r.repo)
	checkExit(t, res, exitOK)
	if !strings.Contains(res.stdout, "No problems found.") || strings.Contains(res.stdout, "repair: ") {
		t.Errorf("repair of a healthy repository:\n%s", res)
	}
	if after := repoSnapshot(t, r.repo); after != before {
		t.Errorf("repair of a healthy repository changed it")
	}
}

// TestRepairKilled kills check --repair at random moments. After every
// kill each archive's undamaged files still extract byte-exact, and a
// repair run to the end leaves a repository that checks clean, with every
// archive once.
func TestRepairKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills many repairs")
	}
	t.Parallel()
	r := newRepairRepo(t)
	names := []string{"a", "b"}
	for _, n := range []string{"c", "d", "e", "f"} {
		res := r.c.runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::"+n, ".")
		if res.code != exitOK {
			t.Fatalf("create %s:\n%s", n, res)
		}
		names = append(names, n)
	}
	// Damage: victim.bin's blob and dir/sub's tree trade bytes; an index
	// file and a pack trailer are damaged too.
	pa, offA, nA := r.victimPack(t)
	pb, offB, _ := r.blobFile(t, r.subTree(t))
	flipAt(t, pa, offA+nA/2)
	flipAt(t, pb, offB+3)
	flipAt(t, pb, -20)
	lost := map[string]bool{"victim.bin": true, "dir/sub/a.txt": true, "dir/sub/b.bin": true}
	snapshot := r.c.path("snapshot")
	copyDir(t, r.repo, snapshot)

	round := func(i int) (*repairRepo, *cli) {
		work := r.c.path(fmt.Sprintf("work%d", i))
		copyDir(t, snapshot, work)
		cc := r.c.with(t)
		cc.vars = maps.Clone(cc.vars)
		cc.vars["GOBAK_CACHE_DIR"] = r.c.path(fmt.Sprintf("cache%d", i))
		cc.vars["GOBAK_PASSPHRASE"] = pass
		return &repairRepo{checkRepo: &checkRepo{c: cc, repo: work, victim: r.victim}, src: r.src, files: r.files}, cc
	}
	repairCmd := func(cc *cli, work string) *exec.Cmd {
		cmd := gobakCommand(cc.t, "check", "--repair", "--yes", "--verify-data", work)
		for k, v := range cc.vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd
	}
	// Time an uninterrupted repair.
	rr, cc := round(0)
	start := time.Now()
	if out, err := repairCmd(cc, rr.repo).CombinedOutput(); err == nil || !strings.Contains(string(out), "data was lost") {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	elapsed := time.Since(start)

	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 3))
	kills := 0
	for i := 1; kills < 12; i++ {
		if i == 60 {
			t.Fatalf("only %d repairs killed in %d rounds", kills, i)
		}
		rr, cc := round(i)
		for k := 0; k < 1+i%2; k++ {
			cmd := repairCmd(cc, rr.repo)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2*time.Millisecond + time.Duration(rng.Int64N(int64(elapsed))))
			_ = cmd.Process.Signal(syscall.SIGKILL)
			var ee *exec.ExitError
			if err := cmd.Wait(); errors.As(err, &ee) && ee.ExitCode() == -1 {
				kills++
			}
			for _, n := range names {
				rr.extractAndCompare(t, n, lost)
			}
		}
		res := cc.runWith(runOpts{}, "check", "--repair", "--yes", "--verify-data", rr.repo)
		if res.code != exitOK && res.code != exitWarning {
			t.Fatalf("round %d: repair after kills:\n%s", i, res)
		}
		rr.check(t, exitOK, "--verify-data")
		list := cc.runWith(runOpts{}, "list", "--short", rr.repo)
		if got := strings.Fields(list.stdout); !slices.Equal(got, names) {
			t.Errorf("round %d: archives %q, want %q\n%s", i, got, names, list)
		}
		for _, n := range names {
			if x := rr.extractAndCompare(t, n, lost); x.code != exitWarning {
				t.Errorf("round %d: extract %s: want the damaged files reported\n%s", i, n, x)
			}
		}
		if t.Failed() {
			return
		}
		_ = os.RemoveAll(rr.repo)
	}
	t.Logf("%d repairs killed, delays up to %v", kills, elapsed)
}
