package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkRepo is a repository with one archive "a" made by gobak create,
// of src/{victim.bin, good.txt} (each one chunk).
type checkRepo struct {
	c      *cli
	repo   string
	victim []byte // content of victim.bin
}

func newCheckRepo(t *testing.T) *checkRepo {
	t.Helper()
	c := newCLI(t)
	r := &checkRepo{c: c, repo: c.initRepo("repo"), victim: randomBytes(200<<10, 7)}
	src := c.path("src")
	writeFiles(t, src, map[string]string{"victim.bin": string(r.victim), "good.txt": strings.Repeat("all is well\n", 100)})
	res := c.runWith(runOpts{dir: src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::a", ".")
	if res.code != exitOK { // relative: the paths are "victim.bin", "good.txt"
		t.Fatalf("create:\n%s", res)
	}
	return r
}

// check runs gobak check with args and wants exit code code.
func (r *checkRepo) check(t *testing.T, code int, args ...string) result {
	t.Helper()
	res := r.c.with(t).run(withPass, append([]string{"check"}, append(args, r.repo)...)...)
	if res.code != code {
		t.Errorf("want exit %d:\n%s", code, res)
	}
	return res
}

// victimPack returns the path of the pack holding victim.bin's blob and the
// blob's offset and length in it.
func (r *checkRepo) victimPack(t *testing.T) (string, int, int) {
	t.Helper()
	lr := r.c.with(t).libRepo(r.repo)
	defer lr.Close()
	loc, ok, err := lr.Lookup(lr.BlobID(r.victim))
	if err != nil || !ok {
		t.Fatalf("lookup victim: %v %v", ok, err)
	}
	p := loc.Pack.String()
	return filepath.Join(r.repo, "data", p[:2], p), int(loc.Offset), int(loc.Length)
}

// flipAt flips one bit of a repository file at offset off (negative: from
// the end).
func flipAt(t *testing.T, path string, off int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(data)
	}
	data[off] ^= 0x01
	replaceFile(t, path, data)
}

// repoSnapshot lists every file of dir with size and mtime (directories by
// name only: taking and releasing the lock touches locks/).
func repoSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", p)
		} else {
			fmt.Fprintf(&b, "%s %d %s\n", p, fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// jsonLines parses check --json output: problems, then the summary.
func jsonLines(t *testing.T, out string) (probs []problemJSON, sum summaryJSON) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var typ struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &typ); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		switch typ.Type {
		case "problem":
			var p problemJSON
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			probs = append(probs, p)
		case "repair":
		case "summary":
			if err := json.Unmarshal(sc.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unknown object %q", sc.Text())
		}
	}
	if sum.Type != "summary" {
		t.Fatalf("no summary in:\n%s", out)
	}
	return probs, sum
}

func TestCheckHealthyReadOnly(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	before := repoSnapshot(t, r.repo)
	res := r.check(t, exitOK)
	if !strings.Contains(res.stdout, "No problems found.") {
		t.Errorf("no all-clear:\n%s", res)
	}
	res = r.check(t, exitOK, "--verify-data", "--json", "--progress")
	probs, sum := jsonLines(t, res.stdout)
	if len(probs) != 0 || !sum.OK || sum.PacksRead == 0 || sum.PacksRead != sum.Packs || sum.BlobsVerified < 3 || sum.Archives != 1 {
		t.Errorf("problems %+v, summary %+v", probs, sum)
	}
	if !strings.Contains(res.stderr, "check: packs") {
		t.Errorf("--progress printed nothing:\n%s", res)
	}
	r.check(t, exitOK, "--read-data-subset", "50%")
	r.check(t, exitOK, "--repository-only")
	r.c.with(t).ok(withPass, "check", "--archives-only", r.repo+"::a")
	if after := repoSnapshot(t, r.repo); after != before {
		t.Errorf("check changed the repository:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestCheckFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(t *testing.T, r *checkRepo)
		args  []string
		code  int
		want  []string // in stdout
	}{
		{"data bit without verify-data", flipVictim, nil, exitOK, []string{"No problems found."}},
		{"data bit", flipVictim, []string{"--verify-data"}, exitError,
			[]string{"damage: blob-damaged:", `archive "a"`, `"victim.bin"`, "damage: pack-hash:"}},
		{"data bit subset", flipVictim, []string{"--read-data-subset", "1/1"}, exitError, []string{`archive "a" paths "victim.bin"`}},
		{"deleted pack", func(t *testing.T, r *checkRepo) {
			p, _, _ := r.victimPack(t)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, nil, exitError, []string{"damage: missing-pack:", `archive "a" paths "victim.bin"`}},
		{"truncated pack", func(t *testing.T, r *checkRepo) {
			p, off, _ := r.victimPack(t)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			replaceFile(t, p, data[:off+10])
		}, nil, exitError, []string{"damage: pack-trailer:", `archive "a" paths "victim.bin"`}},
		{"junk under data", func(t *testing.T, r *checkRepo) {
			dir := filepath.Join(r.repo, "data", "00")
			if err := os.WriteFile(filepath.Join(dir, "00"+strings.Repeat("ab", 31)), []byte("junk"), 0o400); err != nil {
				t.Fatal(err)
			}
		}, nil, exitWarning, []string{"warning: orphan-pack:", "compact"}},
		{"index file bit", func(t *testing.T, r *checkRepo) {
			m, _ := filepath.Glob(filepath.Join(r.repo, "index", "*"))
			for _, f := range m {
				flipAt(t, f, -20)
			}
		}, nil, exitError, []string{"damage: index-file:", "warning: orphan-pack:", `archive "a"`}},
		{"deleted index file", func(t *testing.T, r *checkRepo) {
			m, _ := filepath.Glob(filepath.Join(r.repo, "index", "*"))
			for _, f := range m {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}, nil, exitError, []string{"damage: missing-blob:", `archive "a" paths "victim.bin"`, "index rebuild recovers it"}},
		{"archive record bit", func(t *testing.T, r *checkRepo) {
			m, err := filepath.Glob(filepath.Join(r.repo, "archives", "*"))
			if err != nil || len(m) != 1 {
				t.Fatalf("archives: %v %v", m, err)
			}
			flipAt(t, m[0], 40)
		}, nil, exitError, []string{"damage: archive-record:"}},
		{"config bit", func(t *testing.T, r *checkRepo) {
			data, err := os.ReadFile(filepath.Join(r.repo, "config"))
			if err != nil {
				t.Fatal(err)
			}
			flipAt(t, filepath.Join(r.repo, "config"), bytes.Index(data, []byte(`"body": "`))+20)
		}, nil, exitError, []string{"damage: config:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newCheckRepo(t)
			tt.fault(t, r)
			res := r.check(t, tt.code, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res)
				}
			}
			if tt.code != exitOK && !strings.HasPrefix(res.stderr, "gobak: ") {
				t.Errorf("no message on stderr:\n%s", res)
			}
			// The same problems as JSON lines.
			res = r.check(t, tt.code, append([]string{"--json"}, tt.args...)...)
			probs, sum := jsonLines(t, res.stdout)
			if (tt.code == exitOK) != (len(probs) == 0) || (tt.code == exitError) != (sum.Damage > 0) {
				t.Errorf("json: %d problems, summary %+v", len(probs), sum)
			}
		})
	}
}

// flipVictim flips a bit inside victim.bin's sealed blob.
func flipVictim(t *testing.T, r *checkRepo) {
	p, off, n := r.victimPack(t)
	flipAt(t, p, off+n/2)
}

func TestCheckKeyDamaged(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	keys := keyFiles(t, r.repo)
	if len(keys) != 1 {
		t.Fatalf("keys: %v", keys)
	}
	data, err := os.ReadFile(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	// The key's data is base64: one damaged character either still
	// decodes (the key then fails authentication) or does not (the file
	// then does not parse). Both are reported as a damaged key file.
	at := bytes.Index(data, []byte(`"data": "`)) + 12
	for name, c := range map[string]byte{"decodes": 'A', "not base64": '!'} {
		if data[at] == c {
			c = 'B'
		}
		damaged := bytes.Clone(data)
		damaged[at] = c
		if err := os.WriteFile(keys[0], damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		res := r.check(t, exitError)
		checkError(t, res, "key file is damaged", "gobak key import")
		if !strings.Contains(res.stdout, "damage: key") && !strings.Contains(res.stderr, "passphrase") {
			t.Errorf("%s: neither reported as key damage nor as a key that does not open:\n%s", name, res)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	t.Parallel()
	r := newCheckRepo(t)
	for _, args := range [][]string{
		{"--repository-only", "--archives-only"},
		{"--read-data-subset", "0/3"},
		{"--read-data-subset", "150%"},
		{"--archives-only", "--verify-data"},
		{"--repair", "--repository-only"},
		{"--yes"},
	} {
		res := r.check(t, exitError, args...)
		if !strings.Contains(res.stderr, "--help") {
			t.Errorf("%v: not a usage error:\n%s", args, res)
		}
	}
}
