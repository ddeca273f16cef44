package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// createJSONOfRun parses the output of create --json.
func createJSONOfRun(t *testing.T, r result) createJSON {
	t.Helper()
	var out createJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("create --json is not JSON: %v\n%s", err, r)
	}
	return out
}

// repoArchive is an archive read back from a repository by the test.
type repoArchive struct {
	rec   *archive.Record
	nodes map[string]*archive.Node
	data  map[string][]byte // content of regular files
}

// readArchives opens the repository at path and reads every archive.
func readArchives(t *testing.T, path string) map[string]*repoArchive {
	t.Helper()
	ctx := context.Background()
	be, err := local.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	r, err := repo.Open(ctx, be, repo.Options{Passphrase: func() ([]byte, error) { return []byte(pass), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	list, bad, err := archive.ListArchives(ctx, r)
	if err != nil || len(bad) != 0 {
		t.Fatalf("list archives: %v %v", err, bad)
	}
	out := map[string]*repoArchive{}
	for _, e := range list {
		a := &repoArchive{rec: e.Record, nodes: map[string]*archive.Node{}, data: map[string][]byte{}}
		var walk func(tree id.ID, prefix string)
		walk = func(tree id.ID, prefix string) {
			nodes, err := archive.LoadTree(ctx, r, tree)
			if err != nil {
				t.Fatalf("archive %s: %v", e.Record.Name, err)
			}
			for i := range nodes {
				n := &nodes[i]
				p := strings.TrimPrefix(prefix+"/"+string(n.Name), "/")
				a.nodes[p] = n
				switch n.Type {
				case archive.TypeDir:
					walk(n.SubtreeID(), p)
				case archive.TypeFile:
					ex, err := archive.Extents(ctx, r, n)
					if err != nil {
						t.Fatalf("%s: %v", p, err)
					}
					var buf []byte
					for _, x := range ex {
						if x.IsHole() {
							buf = append(buf, make([]byte, x.Size)...)
							continue
						}
						chunk, err := r.LoadBlob(ctx, x.BlobID(), nil)
						if err != nil {
							t.Fatalf("%s: %v", p, err)
						}
						buf = append(buf, chunk...)
					}
					a.data[p] = buf
				}
			}
		}
		walk(e.Record.TreeID(), "")
		out[e.Record.Name] = a
	}
	return out
}

// writeFiles creates files (path -> content; a trailing "/" makes a
// directory) below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// exitCode runs gobak and checks its exit code.
func (c *cli) exitCode(want int, o runOpts, args ...string) result {
	c.t.Helper()
	r := c.runWith(o, args...)
	if r.code != want {
		c.t.Fatalf("want exit %d:\n%s", want, r)
	}
	return r
}

func TestCreateSession(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("repo")
	src := c.path("src")
	files := map[string]string{
		"etc/app.conf":        "key = value\n",
		"etc/empty":           "",
		"home/deploy/big.bin": string(randomBytes(3<<20, 1)),
		"home/deploy/x.tmp":   "scratch",
		"home/alice/.cache/c": "cached",
		"home/alice/notes":    "remember",
	}
	writeFiles(t, src, files)
	if err := os.Symlink("app.conf", filepath.Join(src, "etc/link")); err != nil {
		t.Fatal(err)
	}
	excludeFile := c.path("excludes")
	if err := os.WriteFile(excludeFile, []byte("# comment\n"+src+"/home/*/.cache\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(name string, more ...string) []string {
		return append(append([]string{"create", "--json", "--exclude", "*.tmp", "--exclude-from", excludeFile}, more...),
			repoPath+"::"+name, filepath.Join(src, "etc"), filepath.Join(src, "home"))
	}

	// Files changed within a second of a backup's start are read again by
	// the next one (coarse timestamps); real files are older than that.
	time.Sleep(1100 * time.Millisecond)
	first := createJSONOfRun(t, c.ok(withPass, args("{hostname}-{now:%Y-%m-%d}-1", "--comment", "nightly")...))
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	if want := host + "-" + time.Now().Format("2006-01-02") + "-1"; first.Archive.Name != want {
		t.Errorf("name %q, want %q", first.Archive.Name, want)
	}
	var size uint64
	for p, d := range files {
		if !strings.HasSuffix(p, ".tmp") && !strings.Contains(p, ".cache") {
			size += uint64(len(d))
		}
	}
	st := first.Archive.Stats
	if st.OriginalSize != size || st.ReadBytes != size || st.NFiles != 4 || st.DeduplicatedSize == 0 || st.CompressedSize == 0 {
		t.Errorf("first stats = %+v, want %d bytes in 4 files", st, size)
	}
	if first.Repository.Location != repoPath || len(first.Repository.ID) != 64 || first.Archive.Comment != "nightly" {
		t.Errorf("json = %+v", first)
	}

	// Unchanged: nothing is read, almost nothing is stored.
	second := createJSONOfRun(t, c.ok(withPass, args("second")...))
	st2 := second.Archive.Stats
	if st2.ReadBytes != 0 || st2.NNewChunks != 0 || st2.DeduplicatedSize > 16<<10 || st2.OriginalSize != size || st2.CompressedSize != st.CompressedSize {
		t.Errorf("unchanged create: stats %+v (first %+v)", st2, st)
	}
	if second.Archive.Parent != first.Archive.ID {
		t.Errorf("parent %q, want %q", second.Archive.Parent, first.Archive.ID)
	}

	// The archives hold what was meant, excludes applied.
	got := readArchives(t, repoPath)
	base := strings.TrimPrefix(src, "/")
	for _, name := range []string{first.Archive.Name, "second"} {
		a := got[name]
		if a == nil {
			t.Fatalf("no archive %q in %v", name, got)
		}
		for p, d := range files {
			data, ok := a.data[base+"/"+p]
			excluded := strings.HasSuffix(p, ".tmp") || strings.Contains(p, ".cache")
			if ok == excluded || ok && string(data) != d {
				t.Errorf("%s: %s stored %v (excluded %v), content ok %v", name, p, ok, excluded, string(data) == d)
			}
		}
		if l := a.nodes[base+"/etc/link"]; l == nil || string(l.LinkTarget) != "app.conf" {
			t.Errorf("%s: symlink %+v", name, l)
		}
		if n := a.nodes[strings.Split(base, "/")[0]]; n == nil || n.Type != archive.TypeDir {
			t.Errorf("%s: no upper directory %q", name, strings.Split(base, "/")[0])
		}
	}

	// Names are unique; a bad placeholder is a usage error.
	c.fails(withPass, []string{"already exists", "second"}, "create", repoPath+"::second", src)
	c.fails(withPass, []string{"{nope}"}, "create", repoPath+"::x-{nope}", src)
	c.fails(withPass, []string{"names no archive"}, "create", repoPath, src)

	// --list shows statuses; --dry-run stores nothing.
	writeFiles(t, src, map[string]string{"etc/app.conf": "key = other value\n"})
	r := c.ok(withPass, "create", "--list", "--dry-run", "--exclude", "*.tmp", repoPath+"::dry", filepath.Join(src, "home"))
	if !strings.Contains(r.stderr, "x "+filepath.Join(src, "home/deploy/x.tmp")+"\n") || !strings.Contains(r.stderr, "- "+filepath.Join(src, "home/alice/notes")) {
		t.Errorf("dry run --list:\n%s", r)
	}
	r = c.ok(withPass, "create", "--list", "--stats", repoPath+"::third", filepath.Join(src, "etc"))
	for _, want := range []string{"A " + filepath.Join(src, "etc/app.conf"), "d " + filepath.Join(src, "etc"), "s " + filepath.Join(src, "etc/link")} {
		if !strings.Contains(r.stderr, want+"\n") {
			t.Errorf("--list lacks %q:\n%s", want, r)
		}
	}
	if !strings.Contains(r.stdout, "Archive name: third") || !strings.Contains(r.stdout, "This archive:") {
		t.Errorf("--stats:\n%s", r)
	}
	if _, ok := readArchives(t, repoPath)["dry"]; ok {
		t.Errorf("--dry-run stored an archive")
	}
}

func TestCreateStdinE2E(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("repo", "--encryption", "none")
	r := c.runWith(runOpts{stdin: "data\n"}, "create", "--json", repoPath+"::db-{now}", "-")
	if r.code != 0 {
		t.Fatalf("want exit 0:\n%s", r)
	}
	name := createJSONOfRun(t, r).Archive.Name
	if !regexp.MustCompile(`^db-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`).MatchString(name) {
		t.Errorf("name %q", name)
	}
	dump := string(randomBytes(1<<20, 2))
	c.exitCode(0, runOpts{stdin: dump}, "create", "--stdin-name", "app.sql", repoPath+"::named", "-")
	got := readArchives(t, repoPath)
	if d := got[name].data["stdin"]; string(d) != "data\n" {
		t.Errorf("stdin stored as %q", d)
	}
	if d := got["named"].data["app.sql"]; string(d) != dump {
		t.Errorf("named stdin: %d bytes stored", len(d))
	}
	if n := got["named"].nodes["app.sql"]; n.Mode != 0o660 || n.UID != uint32(os.Getuid()) {
		t.Errorf("stdin node %+v", n)
	}
}

func TestCreateMissingPaths(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("repo")
	src := c.path("src")
	writeFiles(t, src, map[string]string{"f": "x"})
	missing := c.path("missing")

	c.fails(withPass, []string{"nothing to back up", missing}, "create", repoPath+"::a", missing)
	r := c.exitCode(exitWarning, runOpts{env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", repoPath+"::b", missing, src)
	if !strings.Contains(r.stderr, "gobak: warning: "+missing) || !strings.Contains(r.stderr, "left out") {
		t.Errorf("stderr:\n%s", r)
	}
	got := readArchives(t, repoPath)
	if _, ok := got["a"]; ok {
		t.Errorf("archive a was written")
	}
	b := got["b"]
	if b == nil || len(b.rec.Warnings) != 1 || !strings.Contains(b.rec.Warnings[0], missing) || string(b.data[strings.TrimPrefix(src, "/")+"/f"]) != "x" {
		t.Errorf("archive b: %+v", b)
	}
}

// randomBytes returns n reproducible incompressible bytes.
func randomBytes(n int, seed uint64) []byte {
	out := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(out)
	return out
}

// startCreate starts gobak create in the background, reading standard
// input from the returned pipe.
func (c *cli) startCreate(args ...string) (*exec.Cmd, *os.File, *bytes.Buffer) {
	c.t.Helper()
	cmd := gobakCommand(c.t, args...)
	for k, v := range c.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "GOBAK_PASSPHRASE="+pass)
	pr, pw, err := os.Pipe()
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdin = pr
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	pr.Close()
	c.t.Cleanup(func() { pw.Close() })
	return cmd, pw, &stderr
}

// countFiles counts the files matching a glob in the repository, not
// counting the temporary files of writes in progress (".tmp-*").
func countFiles(repoPath, glob string) int {
	m, _ := filepath.Glob(filepath.Join(repoPath, glob))
	n := 0
	for _, p := range m {
		if !strings.HasPrefix(filepath.Base(p), ".") {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestCreateKilled(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// Small packs get indexed (every 64 packs) early.
	repoPath := c.initRepo("repo", "--pack-size", "1M", "--chunker-params", "64K,256K,1M", "--compression", "none")
	small := c.path("small")
	writeFiles(t, small, map[string]string{"keep/me": "precious", "and/me": strings.Repeat("x", 100000)})
	c.ok(withPass, "create", repoPath+"::before", small)
	data := randomBytes(112<<20, 3)

	// Standard input that stalls mid-way keeps the create running for as
	// long as the test needs.
	tests := []struct {
		sig   syscall.Signal
		feed  int                // bytes written before the signal
		ready func(t *testing.T) // waits until the signal is due
	}{
		// Killed once 40 packs are stored, whether or not an index file
		// names them yet: the rerun must index them (IndexOrphanPacks)
		// rather than upload their chunks again.
		{syscall.SIGKILL, 88 << 20, func(t *testing.T) {
			n := countFiles(repoPath, "data/*/*")
			waitFor(t, "40 packs", func() bool { return countFiles(repoPath, "data/*/*") >= n+40 })
		}},
		{syscall.SIGINT, 8 << 20, func(t *testing.T) {
			time.Sleep(300 * time.Millisecond)
			waitFor(t, "a pack", func() bool { return countFiles(repoPath, "data/*/*") > 0 })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			c := c.with(t)
			cmd, stdin, stderr := c.startCreate("create", repoPath+"::big", "-")
			go func() { _, _ = stdin.Write(data[:tt.feed]) }()
			tt.ready(t)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("gobak did not stop after %v (stdin still open)", tt.sig)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("create was not stopped by %v: %v\n%s", tt.sig, err, stderr)
			}
			if tt.sig == syscall.SIGINT {
				// (A warning about the lock the killed run left may come first.)
				if ee.ExitCode() != exitSignal+int(tt.sig) || !strings.HasSuffix("\n"+stderr.String(), "\ngobak: interrupted (SIGINT)\n") {
					t.Errorf("SIGINT: exit %d, stderr %q", ee.ExitCode(), stderr)
				}
				if n := len(lockFiles(t, repoPath)); n != 0 {
					t.Errorf("SIGINT left %d locks", n)
				}
			}
			got := readArchives(t, repoPath)
			if _, ok := got["big"]; ok || len(got) != 1 {
				t.Fatalf("after %v: archives %v", tt.sig, got)
			}
			if string(got["before"].data[strings.TrimPrefix(small, "/")+"/keep/me"]) != "precious" {
				t.Errorf("earlier archive damaged after %v", tt.sig)
			}
		})
	}
	// Running it again succeeds (the killed run's stale lock is ignored),
	// stores everything, and does not upload again what the interrupted
	// runs had stored.
	packsBefore := packBytes(t, repoPath)
	r := c.runWith(runOpts{env: map[string]string{"GOBAK_PASSPHRASE": pass}, stdin: string(data)}, "create", "--json", repoPath+"::big", "-")
	if r.code != 0 {
		t.Fatalf("rerun:\n%s", r)
	}
	st := createJSONOfRun(t, r).Archive.Stats
	if st.OriginalSize != uint64(len(data)) {
		t.Errorf("stats %+v", st)
	}
	// Everything the interrupted runs stored is reused: the rerun adds at
	// most what was missing, and the repository ends up holding the data
	// once (plus the small first archive, trees and pack trailers).
	if packsBefore < 30<<20 {
		t.Fatalf("only %d bytes were stored before the rerun; the kill came too early to test reuse", packsBefore)
	}
	if st.DeduplicatedSize > st.CompressedSize-uint64(packsBefore)+4<<20 {
		t.Errorf("the rerun stored %d of %d bytes anew although %d bytes of packs were already there: chunks were uploaded again", st.DeduplicatedSize, st.CompressedSize, packsBefore)
	}
	if after := packBytes(t, repoPath); uint64(after) > st.CompressedSize+4<<20 {
		t.Errorf("repository holds %d bytes of packs for %d bytes of data: something was stored twice", after, st.CompressedSize)
	}
	got := readArchives(t, repoPath)
	if a := got["big"]; a == nil || !bytes.Equal(a.data["stdin"], data) {
		t.Errorf("big archive content differs")
	}
	if string(got["before"].data[strings.TrimPrefix(small, "/")+"/keep/me"]) != "precious" {
		t.Errorf("earlier archive damaged")
	}
	t.Logf("after the interruptions, the full create stored %d of %d bytes anew", st.DeduplicatedSize, st.CompressedSize)
}

func TestCreateFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("repo")
	src := c.path("src")
	writeFiles(t, src, map[string]string{"a": strings.Repeat("compressible ", 10000), "cache/CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n", "cache/x": "x", "skip/.nobackup": "", "skip/y": "y"})
	r := createJSONOfRun(t, c.ok(withPass, "create", "--json", "--compression", "zstd,3", "--timestamp", "2020-02-03T04:05:06",
		"--exclude-caches", "--exclude-if-present", ".nobackup", "--numeric-ids", repoPath+"::flags", src))
	if r.Archive.Start != "2020-02-03T04:05:06.000000" {
		t.Errorf("start %q", r.Archive.Start)
	}
	a := readArchives(t, repoPath)["flags"]
	base := strings.TrimPrefix(src, "/")
	if _, ok := a.nodes[base+"/cache"]; ok {
		t.Errorf("cache directory stored")
	}
	if _, ok := a.nodes[base+"/skip"]; ok {
		t.Errorf("directory with .nobackup stored")
	}
	if n := a.nodes[base+"/a"]; n == nil || len(n.User) != 0 || len(n.Group) != 0 {
		t.Errorf("--numeric-ids: %+v", n)
	}
	if a.rec.Compression != "zstd,3" || r.Archive.Stats.CompressedSize >= r.Archive.Stats.OriginalSize/4 {
		t.Errorf("compression %q, %+v", a.rec.Compression, r.Archive.Stats)
	}
	if st, _ := a.rec.StartTime(); st.Year() != 2020 {
		t.Errorf("record start %s", a.rec.Start)
	}
	for _, bad := range [][]string{
		{"create", "--compression", "zip", repoPath + "::x", src},
		{"create", "--timestamp", "yesterday", repoPath + "::x", src},
		{"create", "--parent", "nope", repoPath + "::x", src},
		{"create", repoPath + "::x", "-", "-"},
		{"create", repoPath + "::a/b", src},
		{"create", repoPath + "::x"},
	} {
		c.with(t).fails(withPass, nil, bad...)
	}
	if got := len(readArchives(t, repoPath)); got != 1 {
		t.Errorf("%d archives after failed creates", got)
	}
}

// packBytes sums the sizes of the repository's pack files.
func packBytes(t *testing.T, repoPath string) int64 {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(repoPath, "data", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && !strings.HasPrefix(filepath.Base(m), ".") {
			n += fi.Size()
		}
	}
	return n
}
