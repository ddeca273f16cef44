package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// libRepo opens a repository made by `gobak init` through the library,
// with its own cache (the CLI's must not be in use meanwhile).
func (c *cli) libRepo(path string) *repo.Repo {
	c.t.Helper()
	be, err := local.Open(path)
	if err != nil {
		c.t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), be, repo.Options{
		Passphrase: func() ([]byte, error) { return []byte(pass), nil },
		CacheDir:   c.t.TempDir(),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// libEntry describes an entry of an archive written through the library.
type libEntry struct {
	node     archive.Node
	data     []byte
	children []libEntry
}

func libDir(name string, children ...libEntry) libEntry {
	return libEntry{node: archive.Node{Name: []byte(name), Type: archive.TypeDir, Mode: 0o755, User: []byte("root"), Group: []byte("root"),
		Mtime: 1_773_450_000_000_000_000}, children: children}
}

func libFile(name, data string) libEntry {
	return libEntry{node: archive.Node{Name: []byte(name), Type: archive.TypeFile, Mode: 0o644, User: []byte("root"), Group: []byte("root"),
		Mtime: 1_773_450_000_123_000_000, Size: uint64(len(data))}, data: []byte(data)}
}

func libLink(name, target string) libEntry {
	return libEntry{node: archive.Node{Name: []byte(name), Type: archive.TypeSymlink, Mode: 0o777, LinkTarget: []byte(target),
		Mtime: 1_773_450_000_000_000_000}}
}

// saveEntries stores entries as a tree and returns its ID.
func saveEntries(t *testing.T, r *repo.Repo, entries []libEntry) id.ID {
	t.Helper()
	ctx := context.Background()
	var nodes []archive.Node
	for _, e := range entries {
		n := e.node
		switch n.Type {
		case archive.TypeDir:
			if len(n.Subtree) == 0 { // else: given
				n.SetSubtree(saveEntries(t, r, e.children))
			}
		case archive.TypeFile:
			if len(e.data) > 0 {
				b, _, err := r.SaveBlob(ctx, id.DataBlob, e.data)
				if err != nil {
					t.Fatal(err)
				}
				n.Content = []archive.Extent{archive.DataExtent(b, uint64(len(e.data)))}
			}
		}
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b archive.Node) int { return bytes.Compare(a.Name, b.Name) })
	tree, err := archive.SplitTree(nodes, 1<<20, func(data []byte) (id.ID, error) {
		b, _, err := r.SaveBlob(ctx, id.TreeBlob, data)
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// writeArchive stores an archive of entries named name.
func (c *cli) writeArchive(path, name string, start time.Time, entries []libEntry) {
	c.t.Helper()
	r := c.libRepo(path)
	defer r.Close()
	tree := saveEntries(c.t, r, entries)
	c.saveRecord(r, name, start, tree)
}

func (c *cli) saveRecord(r *repo.Repo, name string, start time.Time, tree id.ID) {
	c.t.Helper()
	ctx := context.Background()
	if err := r.Flush(ctx); err != nil {
		c.t.Fatal(err)
	}
	rec := &archive.Record{Name: name, Hostname: "host1", Username: "alice", Start: archive.FormatTime(start),
		End: archive.FormatTime(start.Add(90 * time.Second)), Paths: [][]byte{[]byte("/etc")},
		CommandLine: [][]byte{[]byte("gobak"), []byte("create")}, Comment: "nightly", Tree: tree[:],
		Stats: archive.Stats{OriginalSize: 1000, CompressedSize: 600, DeduplicatedSize: 200, NFiles: 3, NChunks: 4}}
	data, err := archive.EncodeRecord(rec)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := r.SaveArchive(ctx, data); err != nil {
		c.t.Fatal(err)
	}
}

// checkExit checks the exit code and that stderr has each of want.
func checkExit(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("want exit %d:\n%s", code, r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r)
		}
	}
}

func TestExtractRefusesEscapes(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	outside := c.path("outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	// With --strip-components 1, a/link (a symlink out of the destination)
	// and b/link (a directory whose file would be written through it) land
	// on the same path.
	c.writeArchive(path, "symlink-trick", time.Date(2026, 3, 14, 2, 0, 0, 0, time.UTC), []libEntry{
		libDir("a", libLink("link", outside), libFile("ok", "fine")),
		libDir("b", libDir("link", libFile("pwned", "evil"), libDir("deeper", libFile("x", "evil")))),
	})
	// A tree with a ".." entry (trees are decoded strictly, so it is
	// rejected as malformed) next to a harmless file.
	r := c.libRepo(path)
	bad, err := archive.EncodeTree(&archive.Tree{Nodes: []archive.Node{{Name: []byte(".."), Type: archive.TypeDir, Mode: 0o755,
		Subtree: make([]byte, 32)}}})
	if err != nil {
		t.Fatal(err)
	}
	badID, _, err := r.SaveBlob(context.Background(), id.TreeBlob, bad)
	if err != nil {
		t.Fatal(err)
	}
	sub := libDir("sub").node
	sub.SetSubtree(badID)
	good := libFile("good", "ok").node
	rootID := saveEntries(t, r, []libEntry{{node: sub}, {node: good}})
	c.saveRecord(r, "dotdot", time.Date(2026, 3, 15, 2, 0, 0, 0, time.UTC), rootID)
	c.saveRecord(r, "dotdot-root", time.Date(2026, 3, 16, 2, 0, 0, 0, time.UTC), badID)
	r.Close()

	dest := c.path("dest")
	res := c.run(withPass, "extract", "--strip-components", "1", "--destination", dest, path+"::symlink-trick")
	checkExit(t, res, exitError, "b/link", "refused", "1 entry refused")
	if got := listTree(t, outside); len(got) != 0 {
		t.Errorf("written outside the destination: %q", got)
	}
	if got, want := listTree(t, dest), []string{"link", "ok"}; !slices.Equal(got, want) {
		t.Errorf("destination holds %q, want %q", got, want)
	}
	if target, err := os.Readlink(filepath.Join(dest, "link")); err != nil || target != outside {
		t.Errorf("link -> %q, %v", target, err)
	}

	dest2 := c.path("dest2")
	res = c.run(withPass, "extract", "--destination", dest2, path+"::dotdot")
	checkExit(t, res, exitError, "sub", "malformed")
	if got, want := listTree(t, dest2), []string{"good", "sub"}; !slices.Equal(got, want) {
		t.Errorf("destination holds %q, want %q", got, want)
	}
	c.fails(withPass, []string{"malformed"}, "extract", "--destination", c.path("dest3"), path+"::dotdot-root")
	if got := listTree(t, outside); len(got) != 0 {
		t.Errorf("written outside the destination: %q", got)
	}
	c.fails(withPass, []string{"archive \"nope\" not found", "gobak list"}, "extract", path+"::nope")
	c.fails(withPass, []string{"names no archive"}, "extract", path)
}

// listTree lists the paths below dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flipBlob flips a byte inside the sealed blob holding content (one chunk)
// in the repository at path.
func (c *cli) flipBlob(path string, content []byte) {
	c.t.Helper()
	r := c.libRepo(path)
	loc, ok, err := r.Lookup(r.BlobID(content))
	r.Close()
	if err != nil || !ok {
		c.t.Fatalf("lookup: %v %v", ok, err)
	}
	pack := filepath.Join(path, "data", loc.Pack.String()[:2], loc.Pack.String())
	data, err := os.ReadFile(pack)
	if err != nil {
		c.t.Fatal(err)
	}
	data[loc.Offset+loc.Length/2] ^= 1
	replaceFile(c.t, pack, data)
}

func TestExtractDamagedFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	good, bad := strings.Repeat("good data ", 1000), strings.Repeat("doomed data ", 1000)
	c.writeArchive(path, "a", time.Now(), []libEntry{libFile("bad", bad), libFile("good", good)})

	c.flipBlob(path, []byte(bad))

	dest := c.path("dest")
	res := c.run(withPass, "extract", "--destination", dest, path+"::a")
	checkExit(t, res, exitWarning, "warning: bad:", "1 entry not restored completely or not found")
	if got, err := os.ReadFile(filepath.Join(dest, "good")); err != nil || string(got) != good {
		t.Errorf("good: %d bytes, %v", len(got), err)
	}
	if fi, err := os.Stat(filepath.Join(dest, "bad")); err != nil || fi.Size() != int64(len(bad)) {
		t.Errorf("bad: %v, %v (want it restored with zeros)", fi, err)
	}
}

func TestListInfoDiff(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	t1 := time.Date(2026, 3, 14, 2, 0, 0, 0, time.Local)
	c.writeArchive(path, "host1-2026-03-14", t1, []libEntry{
		libDir("etc", libFile("hosts", "127.0.0.1 localhost\n"), libFile("old.conf", "x"), libLink("alt", "hosts")),
	})
	c.writeArchive(path, "host1-2026-03-15", t1.Add(24*time.Hour), []libEntry{
		libDir("etc", libFile("hosts", "127.0.0.1 localhost\n::1 localhost\n"), libFile("new.conf", strings.Repeat("n", 1200)),
			libLink("alt", "hosts")),
	})

	// list REPO
	res := c.ok(withPass, "list", path)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	line := regexp.MustCompile(`^host1-2026-03-1[45] +Sat, 2026-03-14 02:00:00 \[[0-9a-f]{64}\]$`)
	if len(lines) != 2 || !line.MatchString(lines[0]) || !strings.HasPrefix(lines[1], "host1-2026-03-15 ") {
		t.Errorf("list:\n%s", res.stdout)
	}
	if got := c.ok(withPass, "list", "--last", "1", "--format", "{name}|{hostname}|{username}|{comment}{NL}", path).stdout; got != "host1-2026-03-15|host1|alice|nightly\n" {
		t.Errorf("list --last 1 --format: %q", got)
	}
	if got := c.ok(withPass, "list", "--short", "--glob-archives", "*-14", path).stdout; got != "host1-2026-03-14\n" {
		t.Errorf("list --short --glob-archives: %q", got)
	}
	var lj struct {
		Repository struct{ ID, Location string }
		Archives   []map[string]string
	}
	if err := json.Unmarshal([]byte(c.ok(withPass, "list", "--json", path).stdout), &lj); err != nil {
		t.Fatal(err)
	}
	if lj.Repository.Location != path || len(lj.Archives) != 2 || lj.Archives[0]["name"] != "host1-2026-03-14" ||
		lj.Archives[0]["archive"] != "host1-2026-03-14" || len(lj.Archives[0]["id"]) != 64 ||
		lj.Archives[0]["start"] != "2026-03-14T02:00:00.000000" || lj.Archives[0]["hostname"] != "host1" {
		t.Errorf("list --json: %+v", lj)
	}
	c.fails(withPass, []string{"unknown placeholder {nope}"}, "list", "--format", "{nope}", path)

	// list REPO::ARCHIVE
	res = c.ok(withPass, "list", path+"::host1-2026-03-14")
	dirTime, fileTime := listTime(time.Unix(0, libDir("").node.Mtime)), listTime(time.Unix(0, libFile("", "").node.Mtime))
	want := []string{
		"drwxr-xr-x root   root          0 " + dirTime + " etc",
		"lrwxrwxrwx 0      0             0 " + dirTime + " etc/alt -> hosts",
		"-rw-r--r-- root   root         20 " + fileTime + " etc/hosts",
		"-rw-r--r-- root   root          1 " + fileTime + " etc/old.conf",
	}
	if got := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("list archive:\n%s\nwant\n%s", res.stdout, strings.Join(want, "\n"))
	}
	res = c.ok(withPass, "list", "--json-lines", path+"::host1-2026-03-14", "etc/hosts")
	var ej map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &ej); err != nil {
		t.Fatalf("%v: %s", err, res.stdout)
	}
	if ej["path"] != "etc/hosts" || ej["type"] != "-" || ej["mode"] != "-rw-r--r--" || ej["size"] != 20.0 || ej["user"] != "root" ||
		ej["healthy"] != true || ej["uid"] != 0.0 {
		t.Errorf("list --json-lines: %v", ej)
	}

	// info REPO::ARCHIVE
	var info struct {
		Repository struct{ ID, Location string }
		Cache      struct{ Stats map[string]uint64 }
		Archives   []struct {
			Name, ID, Start, End, Hostname, Username, Comment string
			Duration                                          float64
			CommandLine                                       []string `json:"command_line"`
			Stats                                             map[string]uint64
		}
	}
	if err := json.Unmarshal([]byte(c.ok(withPass, "info", "--json", path+"::host1-2026-03-15").stdout), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Archives) != 1 {
		t.Fatalf("info --json: %+v", info)
	}
	ar := info.Archives[0]
	if ar.Name != "host1-2026-03-15" || len(ar.ID) != 64 || ar.Duration != 90 || ar.Hostname != "host1" || ar.Username != "alice" ||
		ar.Comment != "nightly" || !slices.Equal(ar.CommandLine, []string{"gobak", "create"}) ||
		ar.Stats["original_size"] != 1000 || ar.Stats["compressed_size"] != 600 || ar.Stats["deduplicated_size"] != 200 || ar.Stats["nfiles"] != 3 {
		t.Errorf("info --json archive: %+v", ar)
	}
	if s := info.Cache.Stats; s["total_size"] != 2000 || s["total_csize"] != 1200 || s["total_chunks"] != 8 || s["unique_csize"] == 0 || s["total_unique_chunks"] == 0 {
		t.Errorf("info --json cache.stats: %v", s)
	}
	text := c.ok(withPass, "info", path+"::host1-2026-03-15").stdout
	for _, w := range []string{"Archive name:", "host1-2026-03-15", "Hostname:", "host1", "Duration:", "1m30s", "Number of files:", "3",
		"Command line:", "gobak create", "This archive:", "All archives:", "Deduplication ratio of this archive: 3.00"} {
		if !strings.Contains(text, w) {
			t.Errorf("info archive lacks %q:\n%s", w, text)
		}
	}
	if text := c.ok(withPass, "info", path).stdout; !strings.Contains(text, "All archives:") {
		t.Errorf("info repo:\n%s", text)
	}
	c.fails(withPass, []string{"archive \"x\" not found"}, "info", path+"::x")

	// diff
	res = c.ok(withPass, "diff", path+"::host1-2026-03-14", "host1-2026-03-15")
	wantDiff := []string{
		`^modified +\+3[0-9] B +-20 B etc/hosts$`,
		`^added +1.20 kB etc/new.conf$`,
		`^removed +1 B etc/old.conf$`,
	}
	got := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(got) != len(wantDiff) {
		t.Fatalf("diff:\n%s", res.stdout)
	}
	for i, w := range wantDiff {
		if !regexp.MustCompile(w).MatchString(got[i]) {
			t.Errorf("diff line %q does not match %s", got[i], w)
		}
	}
	res = c.ok(withPass, "diff", "--json-lines", path+"::host1-2026-03-14", "host1-2026-03-15", "etc/new.conf")
	var dj struct {
		Path    string
		Changes []map[string]any
	}
	if err := json.Unmarshal([]byte(res.stdout), &dj); err != nil || dj.Path != "etc/new.conf" || len(dj.Changes) != 1 ||
		dj.Changes[0]["type"] != "added" || dj.Changes[0]["size"] != 1200.0 {
		t.Errorf("diff --json-lines: %+v, %v\n%s", dj, err, res.stdout)
	}
	c.fails(withPass, []string{"not found"}, "diff", path+"::host1-2026-03-14", "nope")
}

// TestCreateExtractRoundTrip backs a tree up with `gobak create` and
// restores it with `gobak extract`, comparing content and metadata.
func TestCreateExtractRoundTrip(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	src := c.path("src")
	files := map[string]string{
		"a/b/c.txt":           "hello",
		"a/big":               strings.Repeat("0123456789abcdef", 200_000),
		"a/\xff\xfe-odd-name": "odd",
		"top":                 "",
	}
	for p, data := range files {
		full := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("b/c.txt", filepath.Join(src, "a/link")))
	must(os.Link(filepath.Join(src, "a/b/c.txt"), filepath.Join(src, "a/hard")))
	must(unix.Mkfifo(filepath.Join(src, "a/fifo"), 0o600))
	must(os.Chmod(filepath.Join(src, "top"), 0o4755))
	must(unix.Setxattr(filepath.Join(src, "a/b/c.txt"), "user.note", []byte("kept"), 0))
	old := time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)
	must(os.Chtimes(filepath.Join(src, "a/b"), old, old))

	c.ok(withPass, "create", path+"::rt", src)
	dest := c.path("dest")
	res := c.ok(withPass, "extract", "--list", "--destination", dest, path+"::rt")
	if !strings.Contains(res.stdout, "a/b/c.txt") {
		t.Errorf("extract --list:\n%s", res.stdout)
	}
	rel := strings.TrimPrefix(src, "/")
	compareTrees(t, src, filepath.Join(dest, rel))

	// --dry-run --list with an exclude writes nothing.
	res = c.ok(withPass, "extract", "--dry-run", "--list", "--exclude", "*/big", "--destination", c.path("never"), path+"::rt", rel+"/a")
	if lines := strings.Split(strings.TrimSpace(res.stdout), "\n"); len(lines) != 7 || !strings.HasSuffix(lines[0], "/a") ||
		strings.Contains(res.stdout, "/a/big") {
		t.Errorf("extract --dry-run --list:\n%s", res.stdout)
	}
	if _, err := os.Lstat(c.path("never")); !os.IsNotExist(err) {
		t.Errorf("dry run created the destination: %v", err)
	}

	// --strip-components drops the leading directories of src.
	n := strings.Count(rel, "/") + 1
	dest2 := c.path("dest2")
	c.ok(withPass, "extract", "--strip-components", strconv.Itoa(n), "--destination", dest2, path+"::rt", rel+"/a")
	compareTrees(t, filepath.Join(src, "a"), filepath.Join(dest2, "a"))
	if got := listTree(t, dest2); len(got) == 0 || got[0] != "a" {
		t.Errorf("strip-components: %q", got)
	}
}

// compareTrees checks that b holds the same entries as a, with the same
// content and metadata (but inode, device, link count and ctime).
func compareTrees(t *testing.T, a, b string) {
	t.Helper()
	compared := 0
	err := filepath.Walk(a, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		ma, err := fsmeta.Lstat(p, fsmeta.ReadOptions{})
		if err != nil {
			return err
		}
		mb, err := fsmeta.Lstat(filepath.Join(b, rel), fsmeta.ReadOptions{})
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if rel == "." {
			return nil // the root directory's parent times change on the source side
		}
		for _, m := range []*fsmeta.Meta{ma, mb} {
			m.Inode, m.Device, m.Ctime, m.Nlink = 0, 0, 0, 0
			if m.Type == fsmeta.Dir {
				m.Size = 0
			}
			if m.Type != fsmeta.Regular {
				m.Atime = 0 // the backup read directories and symlinks
			}
		}
		if ma.Type == fsmeta.Regular {
			da, _ := os.ReadFile(p)
			db, _ := os.ReadFile(filepath.Join(b, rel))
			if !bytes.Equal(da, db) {
				t.Errorf("%s: content differs", rel)
			}
			ma.Atime, mb.Atime = 0, 0 // reading changed them
		}
		ja, _ := json.Marshal(ma)
		jb, _ := json.Marshal(mb)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: metadata differs:\n src %s\n got %s", rel, ja, jb)
		}
		compared++
		return nil
	})
	if err != nil || compared < 3 {
		t.Fatalf("compared %d entries: %v", compared, err)
	}
	if got, want := len(listTree(t, b)), len(listTree(t, a)); got != want {
		t.Errorf("%s has %d entries, %s has %d", b, got, a, want)
	}
}
