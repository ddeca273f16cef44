package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/pattern"
)

// xtSample is an archive with every kind of entry and metadata.
func xtSample(t *testing.T) []xt {
	t.Helper()
	big := xtRandom(1, 3*xtChunk+123)
	entries := []xt{
		xtDir("etc", 0o755,
			xtFile("passwd", 0o644, []byte("root:x:0:0::/root:/bin/sh\n")),
			xtFile("shadow", 0o640, []byte("root:*:1::::::\n")).with(func(n *Node) { n.GID = 42 }),
			xtLink("localtime", "/usr/share/zoneinfo/UTC"),
			xtDir("empty", 0o700),
		),
		xtDir("home", 0o755,
			xtDir("alice", 0o750,
				xtFile("big.bin", 0o600, big).with(func(n *Node) { n.UID, n.GID = 1000, 1000 }),
				xtFile("empty", 0o644, nil),
				xtLink("up", "../../etc/passwd"),
				xtFile("\xff\xfe-not-utf8 name", 0o644, []byte("odd")),
				xtFile("notes", 0o644, []byte("acl and xattrs")).with(func(n *Node) {
					n.Xattrs = []Xattr{
						{Name: []byte("security.gobak"), Value: []byte("s")}, // root only
						{Name: []byte("system.posix_acl_access"), Value: xtACL(1000)},
						{Name: []byte("trusted.k"), Value: []byte("t")}, // root only
						{Name: []byte("user.k"), Value: []byte("\x00binary\xff")},
					}
					if os.Geteuid() != 0 {
						n.Xattrs = []Xattr{n.Xattrs[1], n.Xattrs[3]}
					}
				}),
			).with(func(n *Node) {
				n.UID, n.GID = 1000, 1000
				n.Xattrs = []Xattr{{Name: []byte("system.posix_acl_default"), Value: xtACL(1000)}}
			}),
		),
		xtDir("usr", 0o755,
			xtFile("su", 0o4755, []byte("#!/bin/true\n")),
			xtFile("wall", 0o2755, []byte("#!/bin/true\n")).with(func(n *Node) { n.GID = 5 }),
		),
		xtDir("tmp", 0o1777),
		xtFile("fifo", 0o640, nil).with(func(n *Node) { n.Type, n.Size = TypeFIFO, 0 }),
	}
	if os.Geteuid() == 0 {
		entries = append(entries,
			xtFile("null", 0o666, nil).with(func(n *Node) { n.Type, n.Rdev = TypeCharDev, unix.Mkdev(1, 3) }),
			xtFile("loop9", 0o660, nil).with(func(n *Node) { n.Type, n.Rdev = TypeBlockDev, unix.Mkdev(7, 9) }),
		)
	}
	return entries
}

func TestExtractRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		maxTree int
		sparse  bool
	}{
		{"one worker", 1, 0, false},
		{"parallel", 4, 0, false},
		{"split trees sparse", 3, 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := archivetest.New()
			tree := xtSave(t, cs, tc.maxTree, xtSample(t)...)
			dest, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Workers: tc.workers, Sparse: tc.sparse})
			if len(w.list) != 0 {
				t.Fatalf("warnings:\n%s", w)
			}
			xtCompare(t, cs, tree, dest)
			wantSpecials := uint64(1)
			if os.Geteuid() == 0 {
				wantSpecials = 3
			}
			if st.Files != 8 || st.Dirs != 6 || st.Symlinks != 2 || st.Specials != wantSpecials || st.Warnings() || st.Errors() {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestExtractHardlinks(t *testing.T) {
	cs := archivetest.New()
	data := []byte("linked content")
	linked := func(name string) xt {
		return xtFile(name, 0o640, data).with(func(n *Node) { n.Nlink, n.Inode, n.Device = 3, 77, 9 })
	}
	tree := xtSave(t, cs, 0,
		linked("a"),
		xtDir("d", 0o755, linked("b"), linked("c")),
		xtFile("other", 0o644, data).with(func(n *Node) { n.Nlink, n.Inode, n.Device = 2, 77, 10 }), // another device
	)
	dest, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{})
	if len(w.list) != 0 {
		t.Fatalf("warnings:\n%s", w)
	}
	xtCompare(t, cs, tree, dest)
	ino := func(p string) uint64 {
		var s unix.Stat_t
		if err := unix.Lstat(filepath.Join(dest, p), &s); err != nil {
			t.Fatal(err)
		}
		return s.Ino
	}
	if ino("a") != ino("d/b") || ino("a") != ino("d/c") || ino("a") == ino("other") {
		t.Errorf("inodes a=%d d/b=%d d/c=%d other=%d", ino("a"), ino("d/b"), ino("d/c"), ino("other"))
	}
	if st.Files != 2 || st.Hardlinks != 2 {
		t.Errorf("stats = %+v", st)
	}

	// Extracting only the second link restores it as a file of its own.
	dest, st, _ = xtExtract(t, cs, xtRecord(tree), ExtractOptions{Paths: [][]byte{[]byte("d/c")}})
	if got, err := os.ReadFile(filepath.Join(dest, "d/c")); err != nil || !bytes.Equal(got, data) || st.Files != 1 || st.Hardlinks != 0 {
		t.Errorf("d/c = %q, %v; stats %+v", got, err, st)
	}
}

func TestExtractSparse(t *testing.T) {
	const mib = 1 << 20
	data := make([]byte, 4*mib)
	copy(data[mib:], xtRandom(2, xtChunk))     // data at 1 MiB
	copy(data[3*mib:], xtRandom(3, 2*xtChunk)) // and at 3 MiB
	cs := archivetest.New()
	tree := xtSave(t, cs, 0,
		xt{node: xtFile("holes", 0o644, data).node, data: data, holes: true},
		xtFile("zeros-as-data", 0o644, data), // zero chunks stored as data
	)
	for _, tc := range []struct {
		sparse    bool
		maxBlocks int64 // 512-byte blocks
		minBlocks int64
	}{
		{sparse: true, maxBlocks: 3 * xtChunk / 512 * 2},
		{sparse: false, minBlocks: 4 * mib / 512},
	} {
		t.Run(map[bool]string{true: "sparse", false: "dense"}[tc.sparse], func(t *testing.T) {
			dest, _, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Sparse: tc.sparse})
			if len(w.list) != 0 {
				t.Fatalf("warnings:\n%s", w)
			}
			xtCompare(t, cs, tree, dest)
			for _, name := range []string{"holes", "zeros-as-data"} {
				p := filepath.Join(dest, name)
				b := xtBlocks(t, p)
				if (tc.maxBlocks > 0 && b > tc.maxBlocks) || b < tc.minBlocks {
					t.Errorf("%s: %d blocks allocated, want in [%d, %d]", name, b, tc.minBlocks, tc.maxBlocks)
				}
				if !tc.sparse {
					continue
				}
				f, err := os.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				start, end, err := fsmeta.NextData(f, 0, int64(len(data)))
				f.Close()
				if err != nil || start != mib || end != mib+xtChunk {
					t.Errorf("%s: first data region [%d, %d), %v; want [%d, %d)", name, start, end, err, mib, mib+xtChunk)
				}
			}
		})
	}
}

func TestExtractSelect(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0, xtSample(t)...)
	rec := xtRecord(tree)
	excl := func(pats ...string) *pattern.Matcher {
		m := pattern.NewMatcher()
		for _, p := range pats {
			r, err := pattern.ParseExclude(p)
			if err != nil {
				t.Fatal(err)
			}
			m.Add(r)
		}
		return m
	}
	tests := []struct {
		name  string
		o     ExtractOptions
		want  []string // every path under the destination
		perms map[string]os.FileMode
	}{
		{"one file", ExtractOptions{Paths: [][]byte{[]byte("/home/alice/notes")}},
			[]string{"home", "home/alice", "home/alice/notes"}, nil},
		{"missing path", ExtractOptions{Paths: [][]byte{[]byte("etc/passwd"), []byte("etc/nope/")}},
			[]string{"etc", "etc/passwd"}, nil},
		{"a directory", ExtractOptions{Paths: [][]byte{[]byte("etc/")}},
			[]string{"etc", "etc/empty", "etc/localtime", "etc/passwd", "etc/shadow"}, map[string]os.FileMode{"etc": 0o755}},
		{"exclude", ExtractOptions{Paths: [][]byte{[]byte("etc"), []byte("usr")}, Exclude: excl("etc/s*", "usr")},
			[]string{"etc", "etc/empty", "etc/localtime", "etc/passwd"}, nil},
		{"strip", ExtractOptions{Paths: [][]byte{[]byte("home")}, StripComponents: 2},
			[]string{"big.bin", "empty", "notes", "up", "\xff\xfe-not-utf8 name"}, nil},
		{"strip one", ExtractOptions{Paths: [][]byte{[]byte("etc/passwd"), []byte("usr/su")}, StripComponents: 1},
			[]string{"passwd", "su"}, nil},
		{"excluded directory, included content", ExtractOptions{Exclude: pattern.NewMatcher(
			pattern.Rule{Action: pattern.Include, Pattern: xtPattern(t, "pp:etc/passwd")},
			pattern.Rule{Action: pattern.Exclude, Pattern: xtPattern(t, "sh:**")})},
			[]string{"etc", "etc/passwd"}, map[string]os.FileMode{"etc": 0o777}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var listed []string
			tc.o.List = func(p []byte) { listed = append(listed, string(p)) }
			dest, st, w := xtExtract(t, cs, rec, tc.o)
			if tc.name == "missing path" {
				if st.NotFound != 1 || len(w.list) != 1 || w.list[0] != "etc/nope" || !errors.Is(w.errs[0], ErrNotInArchive) {
					t.Errorf("stats %+v, warnings:\n%s", st, w)
				}
			} else if len(w.list) != 0 {
				t.Fatalf("warnings:\n%s", w)
			}
			got := xtListDir(t, dest)
			if !slices.Equal(got, tc.want) {
				t.Errorf("extracted %q, want %q (listed %q, stats %+v)", got, tc.want, listed, st)
			}
			for p, mode := range tc.perms {
				fi, err := os.Lstat(filepath.Join(dest, p))
				if err != nil || fi.Mode().Perm() != mode.Perm()&^xtUmask() {
					t.Errorf("%s: %v %v, want mode %v", p, fi.Mode(), err, mode)
				}
			}
		})
	}
}

func xtPattern(t *testing.T, s string) *pattern.Pattern {
	t.Helper()
	p, err := pattern.Parse(s, pattern.Fnmatch)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func xtUmask() os.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return os.FileMode(m)
}

// xtListDir returns every path below dir, sorted.
func xtListDir(t *testing.T, dir string) []string {
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
	slices.Sort(out)
	return out
}

func TestExtractDryRun(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0, xtSample(t)...)
	dest := filepath.Join(t.TempDir(), "never")
	var listed []string
	st, err := Extract(context.Background(), cs, xtRecord(tree), ExtractOptions{
		Destination: dest, DryRun: true, Paths: [][]byte{[]byte("etc")},
		List: func(p []byte) { listed = append(listed, string(p)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created the destination: %v", err)
	}
	want := []string{"etc", "etc/empty", "etc/localtime", "etc/passwd", "etc/shadow"}
	if !slices.Equal(listed, want) || st.Files != 2 || st.Dirs != 2 || st.Symlinks != 1 {
		t.Errorf("listed %q, stats %+v; want %q", listed, st, want)
	}
}

func TestExtractDamaged(t *testing.T) {
	store := archivetest.New()
	cs := xtVerifying{store}
	good, bad := xtRandom(4, 2*xtChunk), xtRandom(5, 2*xtChunk+7)
	tree := xtSave(t, cs, 0,
		xtFile("a-good", 0o644, good),
		xtFile("b-bad", 0o644, bad),
		xtFile("c-lost", 0o644, []byte("x")).with(func(n *Node) { n.Damaged = []uint64{0, 1} }),
		xtFile("d-good", 0o644, good[:100]),
	)
	store.Corrupt(store.BlobID(bad[xtChunk:2*xtChunk]), []byte("flipped"))
	dest, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Workers: 2})
	if st.Damaged != 2 || st.Files != 4 || st.Errors() || len(w.list) != 2 {
		t.Fatalf("stats %+v, warnings:\n%s", st, w)
	}
	if w.list[0] != "b-bad" && w.list[1] != "b-bad" || !errors.Is(errors.Join(w.errs...), errXTDamaged) || !errors.Is(errors.Join(w.errs...), ErrDamagedData) {
		t.Errorf("warnings:\n%s", w)
	}
	for name, want := range map[string][]byte{"a-good": good, "d-good": good[:100]} {
		if got, err := os.ReadFile(filepath.Join(dest, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", name, len(got), err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dest, "b-bad"))
	want := slices.Concat(bad[:xtChunk], make([]byte, xtChunk), bad[2*xtChunk:])
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("damaged file: %d bytes, %v; want the good parts and zeros", len(got), err)
	}
}

func TestExtractIntoExisting(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0,
		xtDir("d", 0o755, xtFile("f", 0o644, []byte("new"))),
		xtFile("g", 0o644, []byte("new g")),
		xtLink("h", "target"),
	)
	dest := filepath.Join(t.TempDir(), "dest")
	for _, dir := range []string{"d", "g/sub"} {
		if err := os.MkdirAll(filepath.Join(dest, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{"d/f": "old", "d/keep": "kept", "g/sub/x": "blocks"} {
		if err := os.WriteFile(filepath.Join(dest, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dest, "h"), []byte("a file where a symlink goes"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Destination: dest})
	// g is a non-empty directory: it cannot be replaced by a file.
	if st.Failed != 1 || len(w.list) != 1 || w.list[0] != "g" {
		t.Errorf("stats %+v, warnings:\n%s", st, w)
	}
	for name, want := range map[string]string{"d/f": "new", "d/keep": "kept", "g/sub/x": "blocks"} {
		if got, err := os.ReadFile(filepath.Join(dest, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dest, "h")); err != nil || target != "target" {
		t.Errorf("h -> %q, %v", target, err)
	}
}

func TestExtractCanceled(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0, xtSample(t)...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extract(ctx, cs, xtRecord(tree), ExtractOptions{Destination: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestExtractProgress(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0, xtSample(t)...)
	rec := xtRecord(tree)
	rec.Stats.OriginalSize = 12345
	var last ExtractProgress
	calls := 0
	_, st, _ := xtExtract(t, cs, rec, ExtractOptions{Progress: func(p ExtractProgress) { last = p; calls++ }})
	if calls != int(st.Files) || last.Files != st.Files || last.Bytes != st.Bytes || last.TotalBytes != 12345 || len(last.Path) == 0 {
		t.Errorf("%d calls, last %+v, stats %+v", calls, last, st)
	}
}
