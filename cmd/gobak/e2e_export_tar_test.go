package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
)

// tarFixture is a repository with one archive, "t", of a source tree
// holding every kind of entry export-tar writes.
type tarFixture struct {
	c    *cli
	repo string
	src  string // the source directory
	rel  string // its path in the archive
}

func newTarFixture(t *testing.T) *tarFixture {
	t.Helper()
	c := newCLI(t)
	fx := &tarFixture{c: c, repo: c.initRepo("repo"), src: c.path("src")}
	fx.rel = strings.TrimPrefix(fx.src, "/")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 5<<20+12345)
	rng := rand.NewChaCha8([32]byte{7})
	_, _ = rng.Read(big)
	files := map[string][]byte{
		"a/b/c.txt": []byte("hello"),
		"a/big":     big,
		"a/empty":   nil,
		"top":       []byte("top\n"),
	}
	for p, data := range files {
		full := filepath.Join(fx.src, p)
		must(os.MkdirAll(filepath.Dir(full), 0o750))
		must(os.WriteFile(full, data, 0o640))
	}
	// A sparse file: 8 MiB with 4 KiB of data at 3 MiB and a hole at the end.
	sparse, err := os.Create(filepath.Join(fx.src, "a/sparse"))
	must(err)
	_, err = sparse.WriteAt(bytes.Repeat([]byte("s"), 4096), 3<<20)
	must(err)
	must(sparse.Truncate(8 << 20))
	must(sparse.Close())
	must(os.Symlink("b/c.txt", filepath.Join(fx.src, "a/link")))
	must(os.Link(filepath.Join(fx.src, "a/b/c.txt"), filepath.Join(fx.src, "a/hard")))
	must(unix.Mkfifo(filepath.Join(fx.src, "a/fifo"), 0o600))
	must(unix.Chmod(filepath.Join(fx.src, "top"), 0o4755))
	must(unix.Setxattr(filepath.Join(fx.src, "a/b/c.txt"), "user.note", []byte("kept\x00binary"), 0))
	must(unix.Setxattr(filepath.Join(fx.src, "a/b"), "user.dir", []byte("d"), 0))
	old := time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)
	must(os.Chtimes(filepath.Join(fx.src, "a/b/c.txt"), old, old))
	must(os.Chtimes(filepath.Join(fx.src, "a/b"), old, old.Add(time.Nanosecond)))
	c.ok(withPass, "create", fx.repo+"::t", fx.src)
	return fx
}

// tarEntry is one entry read back from a tar stream.
type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

// readTar decodes a (possibly compressed) tar stream.
func readTar(t *testing.T, data []byte, comp string) []tarEntry {
	t.Helper()
	var r io.Reader = bytes.NewReader(data)
	switch comp {
	case "gzip":
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			t.Fatalf("not gzip: % x", data[:min(8, len(data))])
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "zstd":
		if !bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			t.Fatalf("not zstd: % x", data[:min(8, len(data))])
		}
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	case "lz4":
		if !bytes.HasPrefix(data, []byte{0x04, 0x22, 0x4d, 0x18}) {
			t.Fatalf("not lz4: % x", data[:min(8, len(data))])
		}
		r = lz4.NewReader(r)
	}
	tr := tar.NewReader(r)
	var out []tarEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read tar after %d entries: %v", len(out), err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		out = append(out, tarEntry{hdr: hdr, data: body})
	}
	rest, err := io.ReadAll(r)
	if err != nil || len(rest) > 0 && !bytes.Equal(rest, make([]byte, len(rest))) {
		t.Errorf("after the end of the archive: %d bytes, %v", len(rest), err)
	}
	return out
}

// checkTarAgainst checks that entries are exactly the source entries below
// root (archive path prefix, stripped to name prefix), in archive order,
// with their metadata and content.
func checkTarAgainst(t *testing.T, entries []tarEntry, root, name string, skip func(rel string) bool) {
	t.Helper()
	type want struct {
		name string
		path string
	}
	var wants []want
	err := filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if skip != nil && skip(rel) {
			return nil
		}
		n := name
		if rel != "." {
			n = strings.TrimPrefix(name+"/"+rel, "/")
		}
		wants = append(wants, want{name: n, path: p})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The archive has the source's parent directories first.
	for len(entries) > 0 && entries[0].hdr.Typeflag == tar.TypeDir && strings.HasPrefix(name+"/", entries[0].hdr.Name) &&
		entries[0].hdr.Name != name+"/" {
		entries = entries[1:]
	}
	// filepath.Walk and the archive both go in byte order of names.
	if len(entries) != len(wants) {
		var got []string
		for _, e := range entries {
			got = append(got, e.hdr.Name)
		}
		t.Fatalf("%d entries %q, want %d", len(entries), got, len(wants))
	}
	byInode := map[uint64]string{}
	for i, w := range wants {
		e := entries[i]
		h := e.hdr
		m, err := fsmeta.Lstat(w.path, fsmeta.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantName := w.name
		if m.Type == fsmeta.Dir {
			wantName += "/"
		}
		if h.Name != wantName {
			t.Errorf("entry %d: name %q, want %q", i, h.Name, wantName)
			continue
		}
		if h.Format != tar.FormatPAX && h.Format != tar.FormatUSTAR {
			t.Errorf("%s: format %v", h.Name, h.Format)
		}
		if h.Mode != int64(m.Mode) || h.Uid != int(m.UID) || h.Gid != int(m.GID) || h.Uname != m.User || h.Gname != m.Group {
			t.Errorf("%s: mode %o uid %d gid %d %s:%s, want %o %d %d %s:%s", h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname,
				m.Mode, m.UID, m.GID, m.User, m.Group)
		}
		if h.ModTime.UnixNano() != m.Mtime {
			t.Errorf("%s: mtime %d, want %d", h.Name, h.ModTime.UnixNano(), m.Mtime)
		}
		xattrs := map[string]string{}
		for k, v := range h.PAXRecords {
			if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				xattrs[x] = v
			}
		}
		if len(xattrs) != len(m.Xattrs) {
			t.Errorf("%s: xattrs %q, want %d", h.Name, xattrs, len(m.Xattrs))
		}
		for _, x := range m.Xattrs {
			if v, ok := xattrs[x.Name]; !ok || v != string(x.Value) {
				t.Errorf("%s: xattr %s = %q, want %q", h.Name, x.Name, v, x.Value)
			}
		}
		wantType := map[fsmeta.Type]byte{fsmeta.Regular: tar.TypeReg, fsmeta.Dir: tar.TypeDir, fsmeta.Symlink: tar.TypeSymlink, fsmeta.FIFO: tar.TypeFifo}[m.Type]
		if m.Type == fsmeta.Regular && m.Nlink > 1 {
			if first, ok := byInode[m.Inode]; ok {
				wantType = tar.TypeLink
				if h.Linkname != first {
					t.Errorf("%s: hard link to %q, want %q", h.Name, h.Linkname, first)
				}
			} else {
				byInode[m.Inode] = h.Name
			}
		}
		if h.Typeflag != wantType {
			t.Errorf("%s: type %q, want %q", h.Name, h.Typeflag, wantType)
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg:
			content, err := os.ReadFile(w.path)
			if err != nil {
				t.Fatal(err)
			}
			if h.Size != int64(len(content)) || !bytes.Equal(e.data, content) {
				t.Errorf("%s: %d bytes (header %d), differ from the source's %d", h.Name, len(e.data), h.Size, len(content))
			}
		case tar.TypeSymlink:
			if h.Linkname != string(m.LinkTarget) {
				t.Errorf("%s: -> %q, want %q", h.Name, h.Linkname, m.LinkTarget)
			}
		}
		if h.Typeflag != tar.TypeReg && (h.Size != 0 || len(e.data) != 0) {
			t.Errorf("%s: size %d, %d bytes", h.Name, h.Size, len(e.data))
		}
	}
}

// noTemp checks that no temporary file of an export is left in dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("temporary files left: %q %v", left, err)
	}
}

func TestExportTarFormats(t *testing.T) {
	t.Parallel()
	fx := newTarFixture(t)
	for _, tc := range []struct {
		file, comp string
	}{
		{"out.tar", ""},
		{"out.tar.gz", "gzip"},
		{"out.tgz", "gzip"},
		{"out.tar.zst", "zstd"},
		{"out.tar.lz4", "lz4"},
		{"-", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := fx.c.with(t)
			dir := t.TempDir()
			file := tc.file
			if file != "-" {
				file = filepath.Join(dir, file)
			}
			res := c.ok(withPass, "export-tar", fx.repo+"::t", file)
			data := []byte(res.stdout)
			if file != "-" {
				if res.stdout != "" || res.stderr != "" {
					t.Errorf("output besides FILE:\n%s", res)
				}
				var err error
				if data, err = os.ReadFile(file); err != nil {
					t.Fatal(err)
				}
				noTemp(t, dir)
			}
			entries := readTar(t, data, tc.comp)
			checkTarAgainst(t, entries, fx.src, fx.rel, nil)
		})
	}
}

func TestExportTarGNUTar(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("no tar")
	}
	fx := newTarFixture(t)
	file := fx.c.path("gnu.tar.gz")
	fx.c.ok(withPass, "export-tar", fx.repo+"::t", file)

	list, err := exec.Command("tar", "-tvzf", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -tvzf: %v\n%s", err, list)
	}
	for _, want := range []string{fx.rel + "/a/big", fx.rel + "/a/link -> b/c.txt", fx.rel + "/a/hard link to " + fx.rel + "/a/b/c.txt",
		"-rwsr-xr-x", "prw-------"} {
		if !strings.Contains(string(list), want) {
			t.Errorf("tar -tv lacks %q:\n%s", want, list)
		}
	}
	dest := fx.c.path("dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tar", "--xattrs", "--xattrs-include=*", "--same-owner", "-xpzf", file, "-C", dest).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -x: %v\n%s", err, out)
	}
	compareTrees(t, fx.src, filepath.Join(dest, fx.rel))
}

func TestExportTarSelection(t *testing.T) {
	t.Parallel()
	fx := newTarFixture(t)
	c := fx.c
	n := strings.Count(fx.rel, "/") + 1 // components of rel; "a" stays
	file := c.path("sel.tar")
	res := c.ok(withPass, "export-tar", "--list", "--strip-components", strconv.Itoa(n), "--exclude", "*/big",
		"--pattern", "- **/fifo", fx.repo+"::t", file, fx.rel+"/a")
	if res.stdout != "" {
		t.Errorf("stdout: %q", res.stdout)
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if len(lines) != 7 || lines[0] != fx.rel+"/a" || strings.Contains(res.stderr, "big") || strings.Contains(res.stderr, "fifo") {
		t.Errorf("--list:\n%s", res.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	skip := func(rel string) bool { return rel == "big" || rel == "fifo" }
	checkTarAgainst(t, readTar(t, data, ""), filepath.Join(fx.src, "a"), "a", skip)

	// Without the first link of a hard-linked pair, the second carries
	// the content; with both stripped away, nothing is left.
	// (and --patterns-from and --exclude-from apply too).
	patterns, excludes := c.path("patterns"), c.path("excludes")
	if err := os.WriteFile(patterns, []byte("# rules\n- **/sparse\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(excludes, []byte("*/a/empty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "export-tar", "--strip-components", strconv.Itoa(n+1), "--exclude", "*/b", "--patterns-from", patterns,
		"--exclude-from", excludes, fx.repo+"::t", file, fx.rel+"/a")
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	skip = func(rel string) bool {
		return rel == "." || rel == "b" || strings.HasPrefix(rel, "b/") || rel == "sparse" || rel == "empty"
	}
	checkTarAgainst(t, readTar(t, data, ""), filepath.Join(fx.src, "a"), "", skip)

	// A PATH not in the archive is a warning.
	res = c.run(withPass, "export-tar", fx.repo+"::t", file, fx.rel+"/top", fx.rel+"/missing")
	checkExit(t, res, exitWarning, "warning: "+fx.rel+"/missing: not found", "1 entry not exported completely or not found")
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if e := readTar(t, data, ""); len(e) != 1 || e[0].hdr.Name != fx.rel+"/top" || string(e[0].data) != "top\n" {
		t.Errorf("got %d entries, want %s/top", len(e), fx.rel)
	}
}

func TestExportTarErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	good, bad := strings.Repeat("good data ", 1000), strings.Repeat("doomed data ", 1000)
	lost := libEntry{node: archive.Node{Name: []byte("lost"), Type: archive.TypeFile, Mode: 0o600, Size: 300,
		Content: []archive.Extent{archive.HoleExtent(300)}, Damaged: []uint64{100, 200}}}
	c.writeArchive(path, "a", time.Now(), []libEntry{libFile("bad", bad), libFile("good", good), lost})
	out := c.path("out.tar")

	t.Run("missing archive", func(t *testing.T) {
		c := c.with(t)
		c.fails(withPass, []string{"archive \"nope\" not found"}, "export-tar", path+"::nope", out)
		if _, err := os.Lstat(out); !os.IsNotExist(err) {
			t.Errorf("%s: %v", out, err)
		}
		noTemp(t, c.dir)
		c.fails(withPass, []string{"takes REPO::ARCHIVE FILE"}, "export-tar", path+"::a")
		c.fails(withPass, []string{"bzip2 and xz are not built in"}, "export-tar", path+"::a", c.path("x.tar.xz"))
	})
	t.Run("unwritable", func(t *testing.T) {
		c := c.with(t)
		c.fails(withPass, []string{"cannot create " + c.path("no/dir/out.tar"), "no such file"}, "export-tar", path+"::a", c.path("no/dir/out.tar"))
		c.fails(withPass, []string{"is a directory"}, "export-tar", path+"::a", c.dir)
		noTemp(t, c.dir)
	})
	t.Run("symlink and fifo", func(t *testing.T) {
		c := c.with(t)
		real := c.path("real.tar")
		if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		link := c.path("link.tar")
		if err := os.Symlink("real.tar", link); err != nil {
			t.Fatal(err)
		}
		c.ok(withPass, "export-tar", path+"::a", link, "good")
		if target, err := os.Readlink(link); err != nil || target != "real.tar" {
			t.Errorf("link: %q %v", target, err)
		}
		data, err := os.ReadFile(real)
		if err != nil {
			t.Fatal(err)
		}
		if e := readTar(t, data, ""); len(e) != 1 || string(e[0].data) != good {
			t.Errorf("through the link: %d entries", len(e))
		}
		// A FIFO is written to, not replaced.
		fifo := c.path("fifo")
		if err := unix.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte)
		go func() {
			data, _ := os.ReadFile(fifo)
			got <- data
		}()
		c.ok(withPass, "export-tar", path+"::a", fifo, "good")
		if e := readTar(t, <-got, ""); len(e) != 1 || string(e[0].data) != good {
			t.Errorf("through the fifo: %d entries", len(e))
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("fifo: %v %v", fi.Mode(), err)
		}
		noTemp(t, c.dir)
	})
	t.Run("root tree lost", func(t *testing.T) {
		c := c.with(t)
		r := c.libRepo(path)
		c.saveRecord(r, "broken", time.Now(), id.Hash([]byte("no such tree")))
		r.Close()
		c.fails(withPass, []string{"root directory"}, "export-tar", path+"::broken", out)
		if _, err := os.Lstat(out); !os.IsNotExist(err) {
			t.Errorf("%s after a failed export: %v", out, err)
		}
		noTemp(t, c.dir)
	})
	t.Run("overwrites and damaged", func(t *testing.T) {
		c := c.with(t)
		c.flipBlob(path, []byte(bad)) // inside the sealed blob of "bad"

		if err := os.WriteFile(out, []byte("an older file, replaced"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := c.run(withPass, "export-tar", path+"::a", out)
		checkExit(t, res, exitWarning, "warning: bad:", "warning: lost: file has damaged ranges", "bytes 100-199",
			"2 entries not exported completely")
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		entries := readTar(t, data, "")
		want := map[string]string{"bad": strings.Repeat("\x00", len(bad)), "good": good, "lost": strings.Repeat("\x00", 300)}
		if len(entries) != len(want) {
			t.Fatalf("%d entries, want %d", len(entries), len(want))
		}
		for _, e := range entries {
			if w, ok := want[e.hdr.Name]; !ok || string(e.data) != w || e.hdr.Size != int64(len(w)) {
				t.Errorf("%s: %d bytes, want %d", e.hdr.Name, len(e.data), len(w))
			}
		}
		noTemp(t, c.dir)
	})
}

// TestExportTarListOrder checks that --list names the entries in the
// order of the stream.
func TestExportTarListOrder(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	c.writeArchive(path, "a", time.Now(), []libEntry{
		libDir("etc", libFile("hosts", "127.0.0.1 localhost\n"), libLink("alt", "hosts"), libDir("ssh", libFile("cfg", "x"))),
		libFile("z", "zz"),
	})
	res := c.ok(withPass, "export-tar", "--list", path+"::a", "-")
	entries := readTar(t, []byte(res.stdout), "")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.hdr.Name, "/"))
	}
	want := []string{"etc", "etc/alt", "etc/hosts", "etc/ssh", "etc/ssh/cfg", "z"}
	if !slices.Equal(names, want) || strings.TrimSpace(res.stderr) != strings.Join(want, "\n") {
		t.Errorf("entries %q, listed:\n%s\nwant %q", names, res.stderr, want)
	}
	if h := entries[0].hdr; h.ModTime.UnixNano() != 1_773_450_000_000_000_000 || h.Uname != "root" || h.Mode != 0o755 {
		t.Errorf("etc: %+v", h)
	}
}
