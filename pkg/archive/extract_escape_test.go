package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// xtSandbox returns a directory holding an empty "outside" directory and
// the path of a destination next to it.
func xtSandbox(t *testing.T) (outside, dest string) {
	t.Helper()
	box := t.TempDir()
	outside = filepath.Join(box, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	return outside, filepath.Join(box, "dest")
}

// xtNothingOutside checks that the sandbox holds only outside (empty, or
// with the listed entries) and dest.
func xtNothingOutside(t *testing.T, outside string, keep ...string) {
	t.Helper()
	if got := xtListDir(t, outside); !slices.Equal(got, keep) {
		t.Errorf("outside the destination: %q, want %q", got, keep)
	}
	entries, err := os.ReadDir(filepath.Dir(outside))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "outside" && e.Name() != "dest" {
			t.Errorf("written next to the destination: %s", e.Name())
		}
	}
}

func TestExtractStripConflicts(t *testing.T) {
	outside, _ := xtSandbox(t)
	evilDir := func(name string) xt {
		return xtDir(name, 0o755, xtFile("evil", 0o644, []byte("pwned")), xtLink("evil-link", "x"))
	}
	tests := []struct {
		name     string
		entries  []xt
		refused  string // archive path of the refused entry
		wantType os.FileMode
	}{
		{"symlink then directory", []xt{
			xtDir("a", 0o755, xtLink("link", outside)),
			xtDir("b", 0o755, evilDir("link")),
		}, "b/link", os.ModeSymlink},
		{"relative symlink then directory", []xt{
			xtDir("a", 0o755, xtLink("link", "../outside")),
			xtDir("b", 0o755, evilDir("link")),
		}, "b/link", os.ModeSymlink},
		{"directory then symlink", []xt{
			xtDir("a", 0o755, evilDir("link")),
			xtDir("b", 0o755, xtLink("link", outside)),
		}, "b/link", os.ModeDir},
		{"file then directory", []xt{
			xtDir("a", 0o755, xtFile("link", 0o644, []byte("f"))),
			xtDir("b", 0o755, evilDir("link")),
		}, "b/link", 0},
		{"symlink then implicit parent", []xt{
			xtDir("a", 0o755, xtLink("link", outside)),
			xtDir("b", 0o755, evilDir("link")),
		}, "b/link/evil", os.ModeSymlink},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, dest := xtSandbox(t)
			outside := filepath.Join(filepath.Dir(dest), "outside")
			for i := range tc.entries { // point absolute links into this sandbox
				for j := range tc.entries[i].children {
					if c := &tc.entries[i].children[j]; c.node.Type == TypeSymlink && filepath.IsAbs(string(c.node.LinkTarget)) {
						c.node.LinkTarget = []byte(outside)
					}
				}
			}
			cs := archivetest.New()
			tree := xtSave(t, cs, 0, tc.entries...)
			o := ExtractOptions{Destination: dest, StripComponents: 1}
			if tc.name == "symlink then implicit parent" {
				o.Paths = [][]byte{[]byte("a"), []byte("b/link/evil")}
			}
			_, st, w := xtExtract(t, cs, xtRecord(tree), o)
			xtNothingOutside(t, outside)
			if st.Refused != 1 || len(w.list) != 1 || w.list[0] != tc.refused || !errors.Is(w.errs[0], ErrPathConflict) {
				t.Errorf("stats %+v, warnings:\n%s", st, w)
			}
			fi, err := os.Lstat(filepath.Join(dest, "link"))
			if err != nil || fi.Mode().Type() != tc.wantType {
				t.Errorf("link: %v, %v; want type %v", fi.Mode(), err, tc.wantType)
			}
		})
	}
}

func TestExtractReplacesSymlinksInDestination(t *testing.T) {
	outside, dest := xtSandbox(t)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	// Left by an earlier extraction or planted: symlinks where the archive
	// has directories and a file.
	for name, target := range map[string]string{"etc": outside, "rel": "../outside", "file": filepath.Join(outside, "file")} {
		if err := os.Symlink(target, filepath.Join(dest, name)); err != nil {
			t.Fatal(err)
		}
	}
	cs := archivetest.New()
	tree := xtSave(t, cs, 0,
		xtDir("etc", 0o755, xtFile("passwd", 0o644, []byte("evil"))),
		xtDir("rel", 0o755, xtFile("x", 0o644, []byte("evil"))),
		xtFile("file", 0o644, []byte("evil")),
	)
	_, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Destination: dest})
	if len(w.list) != 0 || st.Files != 3 {
		t.Errorf("stats %+v, warnings:\n%s", st, w)
	}
	xtNothingOutside(t, outside)
	xtCompare(t, cs, tree, dest)
}

func TestExtractLinkTargetsNotFollowed(t *testing.T) {
	outside, dest := xtSandbox(t)
	cs := archivetest.New()
	tree := xtSave(t, cs, 0,
		xtLink("abs", outside),
		xtLink("abs-file", filepath.Join(outside, "f")),
		xtLink("dotdot", "../../../../../../../../tmp"),
		xtDir("d", 0o755, xtLink("up", "..")),
		// A hard link whose "first" is the symlink's path: links only ever
		// join regular files restored by this extraction.
		xtFile("h1", 0o644, []byte("x")).with(func(n *Node) { n.Nlink, n.Inode = 2, 5 }),
		xtFile("h2", 0o644, []byte("x")).with(func(n *Node) { n.Nlink, n.Inode = 2, 5 }),
	)
	_, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Destination: dest})
	if len(w.list) != 0 || st.Symlinks != 4 || st.Hardlinks != 1 {
		t.Errorf("stats %+v, warnings:\n%s", st, w)
	}
	xtNothingOutside(t, outside)
	xtCompare(t, cs, tree, dest)
}

// xtRawTree stores nodes as a tree blob without EncodeTree's checks, as
// an attacker would.
func xtRawTree(t *testing.T, cs ChunkStore, nodes ...Node) id.ID {
	t.Helper()
	data, err := encMode.Marshal(&Tree{Version: TreeVersion, Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := cs.SaveBlob(context.Background(), id.TreeBlob, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExtractCraftedNames(t *testing.T) {
	for _, name := range []string{"..", ".", "../../outside/x", "/abs", "a/../../x", "", "nul\x00"} {
		t.Run(name, func(t *testing.T) {
			outside, dest := xtSandbox(t)
			cs := archivetest.New()
			bad := xtRawTree(t, cs, Node{Name: []byte(name), Type: TypeFile, Mode: 0o644, Size: 1,
				Content: []Extent{HoleExtent(1)}})
			sub := xtDir("sub", 0o755).node
			sub.SetSubtree(bad)
			good := xtFile("good", 0o644, []byte("ok")).node
			root := xtRawTree(t, cs, good, sub)
			_, st, w := xtExtract(t, cs, xtRecord(root), ExtractOptions{Destination: dest})
			xtNothingOutside(t, outside)
			if st.Unreadable != 1 || len(w.list) != 1 || w.list[0] != "sub" || !errors.Is(w.errs[0], ErrMalformed) || st.Files != 1 {
				t.Errorf("stats %+v, warnings:\n%s", st, w)
			}
			if got := xtListDir(t, dest); !slices.Equal(got, []string{"good", "sub"}) {
				t.Errorf("extracted %q", got)
			}

			// As the root tree, the archive cannot be extracted at all.
			_, dest2 := xtSandbox(t)
			_, err := Extract(context.Background(), cs, xtRecord(bad), ExtractOptions{Destination: dest2})
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSafeName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "..a": true, "a..": true, "\xff": true, " ": true,
		"": false, ".": false, "..": false, "a/b": false, "/": false, "a\x00": false,
	} {
		if got := safeName([]byte(name)); got != want {
			t.Errorf("safeName(%q) = %v, want %v", name, got, want)
		}
	}
}
