package archive

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/pattern"
)

func TestCreateTreeShape(t *testing.T) {
	dir := t.TempDir()
	big := pseudoRandom(200<<10, 1)
	writeTree(t, dir, map[string]string{
		"a.txt":          "hello",
		"sub/b.bin":      string(big),
		"sub/deep/c.txt": "c",
		"empty/":         "",
	})
	if err := os.Symlink("sub/../a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Chmod(filepath.Join(dir, "a.txt"), 0o4755); err != nil {
		t.Fatal(err)
	}
	odd := "odd-\xff\xfe"
	writeTree(t, dir, map[string]string{odd: "not utf-8"})
	if err := unix.Setxattr(filepath.Join(dir, "a.txt"), "user.gobak", []byte("v1"), 0); err != nil {
		t.Logf("no user xattrs here: %v", err)
	}

	s := archivetest.New()
	r := runCreate(t, s, baseOptions("first", dir))
	if len(r.warns) != 0 {
		t.Fatalf("warnings: %v", r.warns)
	}
	got := archived(t, s, r.rec.TreeID())
	base := rel(dir)
	var want []string
	for p := range strings.SplitSeq(base, "/") {
		want = append(want, joinFS(lastOr(want), p))
	}
	for _, p := range []string{"a.txt", "empty", "fifo", "link", odd, "sub", "sub/b.bin", "sub/deep", "sub/deep/c.txt"} {
		want = append(want, base+"/"+p)
	}
	slices.Sort(want)
	if g := pathsOf(got); !slices.Equal(g, want) {
		t.Fatalf("archive paths:\n got %q\nwant %q", g, want)
	}
	// The directories on the way carry their own metadata.
	for i, p := range strings.Split(base, "/")[:1] {
		fi, err := os.Stat("/" + p)
		if err != nil {
			t.Fatal(err)
		}
		n := got[p]
		if n.Type != TypeDir || n.Mode != uint32(fi.Mode().Perm())|modeExtra(fi.Mode()) {
			t.Errorf("upper directory %d %q: type %s mode %o, want dir %o", i, p, n.Type, n.Mode, fi.Mode().Perm())
		}
	}
	checks := []struct {
		path string
		typ  NodeType
		data string
	}{
		{"a.txt", TypeFile, "hello"},
		{"sub/b.bin", TypeFile, string(big)},
		{"sub/deep/c.txt", TypeFile, "c"},
		{odd, TypeFile, "not utf-8"},
		{"fifo", TypeFIFO, ""},
		{"link", TypeSymlink, ""},
		{"empty", TypeDir, ""},
	}
	for _, c := range checks {
		n := got[base+"/"+c.path]
		if n.Type != c.typ {
			t.Errorf("%s: type %s, want %s", c.path, n.Type, c.typ)
			continue
		}
		if c.typ == TypeFile {
			if data := content(t, s, n); string(data) != c.data {
				t.Errorf("%s: content of %d bytes differs", c.path, len(data))
			}
			if n.Size != uint64(len(c.data)) {
				t.Errorf("%s: size %d, want %d", c.path, n.Size, len(c.data))
			}
		}
	}
	if n := got[base+"/sub/b.bin"]; len(n.Content) < 3 {
		t.Errorf("200 KiB with 64 KiB max chunks gave %d extents", len(n.Content))
	}
	a := got[base+"/a.txt"]
	if a.Mode != 0o4755 || a.Inode == 0 || a.Nlink != 1 || a.Mtime == 0 || a.Ctime == 0 {
		t.Errorf("a.txt metadata: %+v", a)
	}
	if v, err := unixGetxattr(filepath.Join(dir, "a.txt"), "user.gobak"); err == nil && (len(a.Xattrs) != 1 || string(a.Xattrs[0].Value) != v) {
		t.Errorf("a.txt xattrs = %q, want user.gobak=%q", a.Xattrs, v)
	}
	if l := got[base+"/link"]; string(l.LinkTarget) != "sub/../a.txt" {
		t.Errorf("link target %q", l.LinkTarget)
	}
	st := r.rec.Stats
	if st.NFiles != 4 || st.OriginalSize != uint64(5+len(big)+1+9) || st.ReadBytes != st.OriginalSize || st.NDirs != uint64(len(strings.Split(base, "/"))+3) {
		t.Errorf("stats = %+v", st)
	}
	if st.NChunks == 0 || st.NNewChunks != st.NChunks || st.CompressedSize == 0 || st.DeduplicatedSize <= st.CompressedSize {
		t.Errorf("chunk stats = %+v (dedup size includes trees, so > compressed)", st)
	}
	if r.lines[filepath.Join(dir, "a.txt")] != StatusAdded || r.lines[filepath.Join(dir, "sub")] != StatusDir ||
		r.lines[filepath.Join(dir, "link")] != StatusSymlink || r.lines[filepath.Join(dir, "fifo")] != StatusFIFO {
		t.Errorf("list = %v", r.lines)
	}

	// The record is stored and says what was done.
	data, err := s.LoadArchive(context.Background(), r.id)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := DecodeRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != "first" || rec.Hostname != "testhost" || rec.Username != "tester" || rec.Chunker != smallChunks.String() ||
		len(rec.Paths) != 1 || string(rec.Paths[0]) != dir || rec.Stats != st || rec.TreeID() != r.rec.TreeID() {
		t.Errorf("record = %+v", rec)
	}
}

// lastOr returns the last element of s, or "".
func lastOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// modeExtra returns the setuid/setgid/sticky bits of m in st_mode form.
func modeExtra(m os.FileMode) uint32 {
	var x uint32
	if m&os.ModeSetuid != 0 {
		x |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		x |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		x |= 0o1000
	}
	return x
}

// unixGetxattr reads one xattr.
func unixGetxattr(path, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(path, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func TestCreateRelativePaths(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"top/mid/f": "f", "top/other": "o", "g": "g"})
	t.Chdir(dir)
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"nested", []string{"top/mid/"}, []string{"top", "top/mid", "top/mid/f"}},
		{"file and dir", []string{"g", "./top/mid"}, []string{"g", "top", "top/mid", "top/mid/f"}},
		{"dot", []string{"."}, []string{"g", "top", "top/mid", "top/mid/f", "top/other"}},
		{"inside another", []string{"top", "top/mid/f"}, []string{"top", "top/mid", "top/mid/f", "top/other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := archivetest.New()
			r := runCreate(t, s, baseOptions("a", tt.paths...))
			if got := pathsOf(archived(t, s, r.rec.TreeID())); !slices.Equal(got, tt.want) {
				t.Errorf("paths %q: archive has %q, want %q", tt.paths, got, tt.want)
			}
		})
	}
	for _, bad := range [][]string{{"../x"}, {".."}, {"top", dir + "/x", "top/../../y"}} {
		if _, err := tryCreate(t, archivetest.New(), baseOptions("a", bad...)); !errors.Is(err, ErrBadPath) {
			t.Errorf("paths %q: err = %v, want ErrBadPath", bad, err)
		}
	}
}

// excluder adapts a function.
type excluder func(string) (bool, bool)

func (f excluder) Excluded(p string) (bool, bool) { return f(p) }

func TestCreateExcludes(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"keep.txt":               "k",
		"drop.tmp":               "d",
		"sub/x.tmp":              "d",
		"sub/y":                  "k",
		"cache/CACHEDIR.TAG":     cacheDirSignature + "\n# a cache\n",
		"cache/data":             "d",
		"fakecache/CACHEDIR.TAG": "Signature: not the right one",
		"fakecache/data":         "k",
		"marked/.nobackup":       "",
		"marked/data":            "d",
		"home/a/.cache/x":        "d",
		"home/a/doc":             "k",
		"home/b/.cache/keep.me":  "k",
	})
	base := rel(dir)
	rules := func(t *testing.T, specs ...string) Excluder {
		m := pattern.NewMatcher()
		for _, s := range specs {
			var r pattern.Rule
			var err error
			if act, ok := map[string]pattern.Action{"+ ": pattern.Include, "- ": pattern.Exclude}[s[:2]]; ok {
				var p *pattern.Pattern
				p, err = pattern.Parse(s[2:], pattern.Fnmatch)
				r = pattern.Rule{Action: act, Pattern: p}
			} else {
				r, err = pattern.ParseExclude(s)
			}
			if err != nil {
				t.Fatal(err)
			}
			m.Add(r)
		}
		return m
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, o *CreateOptions)
		gone    []string
		present []string
	}{
		{"glob", func(t *testing.T, o *CreateOptions) { o.Exclude = rules(t, "*.tmp") },
			[]string{"drop.tmp", "sub/x.tmp"}, []string{"keep.txt", "sub/y", "cache/data"}},
		{"full path", func(t *testing.T, o *CreateOptions) { o.Exclude = rules(t, "/"+base+"/home/*/.cache") },
			[]string{"home/a/.cache", "home/b/.cache"}, []string{"home/a/doc", "drop.tmp"}},
		{"caches", func(t *testing.T, o *CreateOptions) { o.ExcludeCaches = true },
			[]string{"cache"}, []string{"fakecache/data", "fakecache/CACHEDIR.TAG", "marked/data"}},
		{"if present", func(t *testing.T, o *CreateOptions) { o.ExcludeIfPresent = []string{".nobackup", "nothing"} },
			[]string{"marked"}, []string{"cache/data", "keep.txt"}},
		{"include again", func(t *testing.T, o *CreateOptions) {
			o.Exclude = rules(t, "+ "+base+"/home/b/.cache/keep.me", "- "+base+"/home")
		},
			[]string{"home/a", "home/b/.cache/x"}, []string{"home/b/.cache/keep.me", "keep.txt"}},
		{"no recurse", func(t *testing.T, o *CreateOptions) {
			o.Exclude = excluder(func(p string) (bool, bool) { return strings.HasSuffix(p, "/home"), false })
		}, []string{"home"}, []string{"keep.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := archivetest.New()
			o := baseOptions("a", dir)
			tt.setup(t, &o)
			r := runCreate(t, s, o)
			got := archived(t, s, r.rec.TreeID())
			for _, p := range tt.gone {
				if _, ok := got[base+"/"+p]; ok {
					t.Errorf("%s was not excluded", p)
				}
			}
			for _, p := range tt.present {
				if _, ok := got[base+"/"+p]; !ok {
					t.Errorf("%s is missing", p)
				}
			}
			if st := r.lines[filepath.Join(dir, tt.gone[0])]; st != StatusExcluded && !strings.Contains(tt.name, "include") {
				t.Errorf("%s listed as %q, want x", tt.gone[0], st)
			}
		})
	}
}

func TestCreateStdin(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "file"})
	data := pseudoRandom(300<<10, 7)
	tests := []struct {
		name     string
		stdinAs  string
		paths    []string
		wantPath string
	}{
		{"default name", "", nil, "stdin"},
		{"named, with a path", "db.sql", []string{dir}, "db.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := archivetest.New()
			o := baseOptions("s", tt.paths...)
			o.Stdin, o.StdinName = bytes.NewReader(data), tt.stdinAs
			r := runCreate(t, s, o)
			got := archived(t, s, r.rec.TreeID())
			n := got[tt.wantPath]
			if n == nil || n.Type != TypeFile {
				t.Fatalf("no file %q in %q", tt.wantPath, pathsOf(got))
			}
			if !bytes.Equal(content(t, s, n), data) || n.Size != uint64(len(data)) {
				t.Errorf("stdin content differs")
			}
			if n.Mode != 0o660 || n.UID != uint32(os.Getuid()) || n.GID != uint32(os.Getgid()) || n.Mtime == 0 {
				t.Errorf("stdin node = mode %o uid %d gid %d mtime %d", n.Mode, n.UID, n.GID, n.Mtime)
			}
			if want := len(tt.paths) + 1; len(r.rec.Paths) != want || string(r.rec.Paths[want-1]) != "-" {
				t.Errorf("record paths = %q", r.rec.Paths)
			}
			if r.lines["-"] != StatusStdin {
				t.Errorf("stdin listed as %q", r.lines["-"])
			}
		})
	}
	t.Run("name clash", func(t *testing.T) {
		t.Chdir(dir)
		o := baseOptions("s", ".")
		o.Stdin, o.StdinName = bytes.NewReader(data), "f"
		if _, err := tryCreate(t, archivetest.New(), o); !errors.Is(err, ErrBadPath) {
			t.Errorf("err = %v, want ErrBadPath", err)
		}
	})
}

func TestCreateHardlinks(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a/one": "shared content"})
	if err := os.Link(filepath.Join(dir, "a/one"), filepath.Join(dir, "two")); err != nil {
		t.Fatal(err)
	}
	s := archivetest.New()
	r := runCreate(t, s, baseOptions("h", dir))
	got := archived(t, s, r.rec.TreeID())
	one, two := got[rel(dir)+"/a/one"], got[rel(dir)+"/two"]
	if one.Inode == 0 || one.Inode != two.Inode || one.Device != two.Device || one.Nlink != 2 || two.Nlink != 2 {
		t.Errorf("hardlinks: %d/%d/%d and %d/%d/%d", one.Inode, one.Device, one.Nlink, two.Inode, two.Device, two.Nlink)
	}
	if !slices.EqualFunc(one.Content, two.Content, func(a, b Extent) bool { return bytes.Equal(a.ID, b.ID) }) || string(content(t, s, two)) != "shared content" {
		t.Errorf("hardlinked files differ in content")
	}
}

func TestCreateSparse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sparse")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size, at = 64 << 20, 20 << 20
	data := pseudoRandom(8192, 3)
	if _, err := f.WriteAt(data, at); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Blocks*512 >= size/2 {
		t.Skipf("file system does not keep holes (%d blocks, %v)", st.Blocks, err)
	}
	s := archivetest.New()
	r := runCreate(t, s, baseOptions("sp", path))
	n := archived(t, s, r.rec.TreeID())[rel(path)]
	if n.Size != size {
		t.Fatalf("size %d", n.Size)
	}
	var holes, dataBytes uint64
	for _, e := range n.Content {
		if e.IsHole() {
			holes += e.Size
		} else {
			dataBytes += e.Size
		}
	}
	if holes < size-(1<<20) || dataBytes > 1<<20 {
		t.Errorf("holes %d bytes, data %d bytes: holes were read as data", holes, dataBytes)
	}
	if r.rec.Stats.ReadBytes != dataBytes || r.rec.Stats.OriginalSize != size {
		t.Errorf("read %d bytes (data %d), original size %d", r.rec.Stats.ReadBytes, dataBytes, r.rec.Stats.OriginalSize)
	}
	got := content(t, s, n)
	want := make([]byte, size)
	copy(want[at:], data)
	if !bytes.Equal(got, want) {
		t.Errorf("sparse file content differs")
	}
}

func TestCreateSocketSkipped(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "x"})
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets: %v", err)
	}
	defer l.Close()
	s := archivetest.New()
	r := runCreate(t, s, baseOptions("so", dir))
	got := archived(t, s, r.rec.TreeID())
	if _, ok := got[rel(sock)]; ok {
		t.Errorf("socket was stored")
	}
	if r.lines[sock] != StatusSocket || len(r.warns) != 0 || len(r.rec.Warnings) != 0 {
		t.Errorf("socket: status %q, warnings %v %v", r.lines[sock], r.warns, r.rec.Warnings)
	}
}

func TestCreateOneFileSystem(t *testing.T) {
	// /dev usually holds other mounts (/dev/pts, /dev/shm); it also has
	// device nodes.
	var dev, pts unix.Stat_t
	if unix.Lstat("/dev", &dev) != nil || unix.Lstat("/dev/pts", &pts) != nil || dev.Dev == pts.Dev {
		t.Skip("/dev/pts is not a separate mount here")
	}
	s := archivetest.New()
	o := baseOptions("onefs", "/dev")
	o.OneFileSystem = true
	o.Exclude = excluder(func(p string) (bool, bool) {
		// Keep it small: only the top level of /dev.
		return strings.Count(p, "/") > 1, false
	})
	r := runCreate(t, s, o)
	got := archived(t, s, r.rec.TreeID())
	if _, ok := got["dev/pts"]; ok {
		t.Errorf("/dev/pts (another file system) was stored")
	}
	if r.lines["/dev/pts"] != StatusExcluded {
		t.Errorf("/dev/pts listed as %q", r.lines["/dev/pts"])
	}
	if n := got["dev/null"]; n == nil || n.Type != TypeCharDev || n.Rdev != uint64(unix.Mkdev(1, 3)) {
		t.Errorf("dev/null = %+v", n)
	}
	o.OneFileSystem = false
	o.Name = "all"
	r = runCreate(t, s, o)
	if _, ok := archived(t, s, r.rec.TreeID())["dev/pts"]; !ok {
		t.Errorf("without --one-file-system, /dev/pts is missing")
	}
}

// TestCreateSparseShiftInvariant: data next to holes that moved by a few
// bytes (so the holes' partial blocks differ) is stored as the same blobs:
// zeros at the edges of a data region count as part of the hole.
func TestCreateSparseShiftInvariant(t *testing.T) {
	dir := t.TempDir()
	payload := append(append(make([]byte, 100), pseudoRandom(300<<10, 5)...), make([]byte, 50)...)
	const size = 4 << 20
	write := func(name string, shift int64) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(payload, 1<<20+shift); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a, b := write("a", 0), write("b", 7)
	var st unix.Stat_t
	if err := unix.Stat(a, &st); err != nil || st.Blocks*512 >= size/2 {
		t.Skipf("file system does not keep holes (%d blocks, %v)", st.Blocks, err)
	}
	s := archivetest.New()
	r := runCreate(t, s, baseOptions("shift", a, b))
	nodes := archived(t, s, r.rec.TreeID())
	blobs := func(path string) (ids []id.ID) {
		n := nodes[rel(path)]
		want := make([]byte, size)
		shift := map[string]int{a: 0, b: 7}[path]
		copy(want[1<<20+shift:], payload)
		if got := content(t, s, n); !bytes.Equal(got, want) {
			t.Errorf("%s: content differs", path)
		}
		for _, e := range n.Content {
			if !e.IsHole() {
				ids = append(ids, e.BlobID())
			}
		}
		return ids
	}
	ia, ib := blobs(a), blobs(b)
	if len(ia) == 0 || !slices.Equal(ia, ib) {
		t.Errorf("shifted data stored as other blobs: %d vs %d blobs", len(ia), len(ib))
	}
}
