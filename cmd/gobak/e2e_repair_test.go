package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
