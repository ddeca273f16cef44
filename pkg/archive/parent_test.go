package archive

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// countOpens returns hooks counting the files Create opens for reading.
func countOpens(n *atomic.Int64) *createHooks {
	return &createHooks{open: func(p string) (*os.File, error) {
		n.Add(1)
		return openNoFollow(p)
	}}
}

// parentOf finds the parent for o as the CLI does.
func parentOf(t *testing.T, s *archivetest.Store, o CreateOptions) *Entry {
	t.Helper()
	list, _, err := ListArchives(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	var paths [][]byte
	for _, p := range o.Paths {
		paths = append(paths, []byte(p))
	}
	return FindParent(list, o.Hostname, paths)
}

func TestCreateParentReuse(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"big": string(pseudoRandom(300<<10, 9)), "empty": ""}
	for _, p := range []string{"a/1", "a/2", "a/b/3", "c/4", "c/d/e/5"} {
		files[p] = "content of " + p
	}
	writeTree(t, dir, files)
	s := archivetest.New()
	first := runCreate(t, s, baseOptions("one", dir))
	base := rel(dir)
	subtree := func(r *createResult) id.ID {
		return archived(t, s, r.rec.TreeID())[base].SubtreeID()
	}

	// Unchanged: nothing is opened or read, the tree is the same, and
	// nothing but (perhaps) the upper directories is stored.
	var opens atomic.Int64
	o := baseOptions("two", dir)
	o.Parent = parentOf(t, s, o)
	if o.Parent == nil || o.Parent.ID != first.id {
		t.Fatalf("parent = %v, want the first archive", o.Parent)
	}
	o.hooks = countOpens(&opens)
	saved := s.Saved
	second := runCreate(t, s, o)
	st := second.rec.Stats
	if st.ReadBytes != 0 || opens.Load() != 0 {
		t.Errorf("unchanged tree: read %d bytes, opened %d files", st.ReadBytes, opens.Load())
	}
	if subtree(second) != subtree(first) {
		t.Errorf("unchanged directory got a new tree")
	}
	if extra := s.Saved - saved; extra > strings.Count(base, "/")+2 {
		t.Errorf("unchanged backup stored %d blobs", extra)
	}
	if st.NFiles != first.rec.Stats.NFiles || st.OriginalSize != first.rec.Stats.OriginalSize ||
		st.NChunks != first.rec.Stats.NChunks || st.NNewChunks != 0 || st.CompressedSize != first.rec.Stats.CompressedSize {
		t.Errorf("stats: first %+v, second %+v", first.rec.Stats, st)
	}
	if second.lines[filepath.Join(dir, "a/b/3")] != StatusUnchanged || string(second.rec.Parent) != string(first.id[:]) {
		t.Errorf("status %q, record parent %x", second.lines[filepath.Join(dir, "a/b/3")], second.rec.Parent)
	}

	// Changed content, changed mtime, a new file: only those are read.
	if err := os.WriteFile(filepath.Join(dir, "a/2"), []byte("new content!"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "c/4"), old, old); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"c/new": "fresh"})
	opens.Store(0)
	o = baseOptions("three", dir)
	o.Parent = parentOf(t, s, o)
	if o.Parent == nil || o.Parent.ID != second.id {
		t.Fatalf("parent = %v, want the second archive", o.Parent)
	}
	o.hooks = countOpens(&opens)
	third := runCreate(t, s, o)
	if want := uint64(len("new content!") + len(files["c/4"]) + len("fresh")); third.rec.Stats.ReadBytes != want || opens.Load() != 3 {
		t.Errorf("read %d bytes from %d files, want %d from 3", third.rec.Stats.ReadBytes, opens.Load(), want)
	}
	for p, want := range map[string]Status{"a/2": StatusModified, "c/4": StatusModified, "c/new": StatusAdded, "a/1": StatusUnchanged, "big": StatusUnchanged} {
		if got := third.lines[filepath.Join(dir, p)]; got != want {
			t.Errorf("%s: status %q, want %q", p, got, want)
		}
	}
	got := archived(t, s, third.rec.TreeID())
	if string(content(t, s, got[base+"/a/2"])) != "new content!" || string(content(t, s, got[base+"/big"])) != files["big"] {
		t.Errorf("content after a changed backup is wrong")
	}
}

func TestCreateParentReplacedFile(t *testing.T) {
	// Same size and mtime but a different inode (a file replaced by
	// rename) is read again.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "aaaa"})
	s := archivetest.New()
	runCreate(t, s, baseOptions("one", dir))
	st, _ := os.Stat(filepath.Join(dir, "f"))
	writeTree(t, dir, map[string]string{"f.new": "bbbb"})
	if err := os.Chtimes(filepath.Join(dir, "f.new"), st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "f.new"), filepath.Join(dir, "f")); err != nil {
		t.Fatal(err)
	}
	o := baseOptions("two", dir)
	o.Parent = parentOf(t, s, o)
	r := runCreate(t, s, o)
	if n := archived(t, s, r.rec.TreeID())[rel(dir)+"/f"]; string(content(t, s, n)) != "bbbb" {
		t.Errorf("replaced file kept the old content")
	}
}

func TestFindParent(t *testing.T) {
	mk := func(name, host string, paths ...string) Entry {
		r := &Record{Name: name, Hostname: host}
		for _, p := range paths {
			r.Paths = append(r.Paths, []byte(p))
		}
		return Entry{ID: id.Hash([]byte(name)), Record: r}
	}
	list := []Entry{ // oldest first
		mk("old", "h", "/etc", "/home"),
		mk("other-host", "x", "/etc", "/home"),
		mk("new", "h", "/home/", "/etc"),
		mk("fewer", "h", "/etc"),
		mk("stdin", "h", "-"),
	}
	tests := []struct {
		host  string
		paths []string
		want  string
	}{
		{"h", []string{"/etc", "/home"}, "new"},
		{"h", []string{"/home", "/etc", "/etc"}, "new"},
		{"x", []string{"/home", "/etc"}, "other-host"},
		{"h", []string{"/etc"}, "fewer"},
		{"h", []string{"-"}, "stdin"},
		{"h", []string{"/var"}, ""},
		{"nohost", []string{"/etc"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.host+" "+filepath.Join(tt.paths...), func(t *testing.T) {
			var paths [][]byte
			for _, p := range tt.paths {
				paths = append(paths, []byte(p))
			}
			got := FindParent(list, tt.host, paths)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("got %q, want none", got.Record.Name)
			case tt.want != "" && (got == nil || got.Record.Name != tt.want):
				t.Errorf("got %v, want %q", got, tt.want)
			}
		})
	}
}

// TestCreateRacyFilesReread: a file changed within racyWindow of the
// parent backup's start may have been rewritten in the same timestamp tick
// after the parent read it, so it is read again, not reused; files
// changed well before the parent's start are reused.
func TestCreateRacyFilesReread(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"x": "racy content", "y": string(pseudoRandom(100<<10, 4))})
	s := archivetest.New()
	o := baseOptions("one", dir)
	o.Time = time.Time{} // the real start: the files were written just now
	runCreate(t, s, o)
	var opens atomic.Int64
	o2 := baseOptions("two", dir)
	o2.Parent = parentOf(t, s, o2)
	o2.hooks = countOpens(&opens)
	second := runCreate(t, s, o2)
	if opens.Load() != 2 || second.rec.Stats.ReadBytes != uint64(12+100<<10) {
		t.Fatalf("racy files: opened %d, read %d bytes; want both files read again", opens.Load(), second.rec.Stats.ReadBytes)
	}
	// "two" started 2 s after the files changed: a third backup trusts it.
	opens.Store(0)
	o3 := baseOptions("three", dir)
	o3.Parent = parentOf(t, s, o3)
	o3.hooks = countOpens(&opens)
	if third := runCreate(t, s, o3); opens.Load() != 0 || third.rec.Stats.ReadBytes != 0 {
		t.Fatalf("settled files: opened %d, read %d bytes; want none", opens.Load(), third.rec.Stats.ReadBytes)
	}
}
