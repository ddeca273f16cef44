package archive

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
)

// xtDiffLine renders an entry for comparison.
func xtDiffLine(e DiffEntry) string {
	s := fmt.Sprintf("%s %s", e.Kind, e.Path)
	if e.Kind == DiffModified {
		s += fmt.Sprintf(" %#x", e.Changes)
	}
	if e.AddedBytes+e.RemovedBytes > 0 {
		s += fmt.Sprintf(" +%d -%d", e.AddedBytes, e.RemovedBytes)
	}
	return s
}

func TestDiff(t *testing.T) {
	cs := archivetest.New()
	c1, c2, c3 := xtRandom(10, xtChunk), xtRandom(11, xtChunk), xtRandom(12, 100)
	big := xtRandom(13, 5000)
	unchanged := xtDir("same", 0o755, xtFile("f", 0o644, big), xtDir("sub", 0o700, xtFile("g", 0o644, nil)))
	old := []xt{
		unchanged,
		xtFile("content", 0o644, append(append([]byte{}, c1...), c2...)),
		xtFile("mode", 0o644, []byte("m")),
		xtFile("owner", 0o644, nil),
		xtFile("touched", 0o644, nil),
		xtFile("xattr", 0o644, nil),
		xtLink("link", "a"),
		xtFile("removed", 0o644, c3),
		xtDir("gone", 0o755, xtFile("inside", 0o644, c3)),
		xtDir("was-dir", 0o755, xtFile("child", 0o644, nil)),
		xtFile("was-file", 0o644, c3),
	}
	newer := []xt{
		unchanged,
		xtFile("content", 0o644, append(append([]byte{}, c1...), c3...)),
		xtFile("mode", 0o600, []byte("m")),
		xtFile("owner", 0o644, nil).with(func(n *Node) { n.User = []byte("bob") }),
		xtFile("touched", 0o644, nil).with(func(n *Node) { n.Mtime++ }),
		xtFile("xattr", 0o644, nil).with(func(n *Node) { n.Xattrs = []Xattr{{Name: []byte("user.a"), Value: nil}} }),
		xtLink("link", "b"),
		xtFile("added", 0o644, big),
		xtDir("new", 0o755, xtFile("inside", 0o644, c3)),
		xtFile("was-dir", 0o755, c3).with(func(n *Node) { n.Mtime = xtMtime + 7 }),
		xtDir("was-file", 0o644, xtFile("child", 0o644, nil)).with(func(n *Node) { n.Mtime = xtMtime }),
	}
	a, b := xtSave(t, cs, 0, old...), xtSave(t, cs, 0, newer...)
	all := []string{
		"added added +5000 -0",
		"modified content 0x2 +100 -65536",
		"removed gone",
		"removed gone/inside +0 -100",
		"modified link 0x40",
		"modified mode 0x4",
		"added new",
		"added new/inside +100 -0",
		"modified owner 0x8",
		"removed removed +0 -100",
		"modified touched 0x10",
		"modified was-dir 0x1 +100 -0",
		"removed was-dir/child",
		"modified was-file 0x1 +0 -100",
		"added was-file/child",
		"modified xattr 0x20",
	}
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"all", nil, all},
		{"paths", []string{"gone", "was-file/child", "same"}, []string{"removed gone", "removed gone/inside +0 -100", "added was-file/child"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ps [][]byte
			for _, p := range tc.paths {
				ps = append(ps, []byte(p))
			}
			var got []string
			cs.Loads = 0
			err := Diff(context.Background(), cs, a, b, ps, func(e DiffEntry) error {
				got = append(got, xtDiffLine(e))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("diff:\n%q\nwant\n%q", got, tc.want)
			}
			// Loaded: both roots, gone, new, was-dir and was-file (one
			// side each), and the content's chunks never. "same" is
			// skipped by its tree ID.
			if tc.paths == nil && cs.Loads != 6 {
				t.Errorf("%d blob loads, want 6", cs.Loads)
			}
		})
	}

	// Identical archives load nothing.
	cs.Loads = 0
	if err := Diff(context.Background(), cs, a, a, nil, func(e DiffEntry) error {
		t.Errorf("unexpected %s", xtDiffLine(e))
		return nil
	}); err != nil || cs.Loads != 0 {
		t.Errorf("same trees: %v, %d loads", err, cs.Loads)
	}

	// SkipAll stops early without error.
	n := 0
	err := Diff(context.Background(), cs, a, b, nil, func(DiffEntry) error { n++; return SkipAll })
	if err != nil || n != 1 {
		t.Errorf("SkipAll: %v after %d entries", err, n)
	}
}

func TestDiffContentParts(t *testing.T) {
	cs := archivetest.New()
	ctx := context.Background()
	c1, c2 := xtRandom(20, 1000), xtRandom(21, 2000)
	file := func(parts bool, data ...[]byte) Node {
		n := xtFile("f", 0o644, nil).node
		var ex []Extent
		for _, d := range data {
			b, _, _ := cs.SaveBlob(ctx, 1, d)
			ex = append(ex, DataExtent(b, uint64(len(d))))
			n.Size += uint64(len(d))
		}
		if !parts {
			n.Content = ex
			return n
		}
		enc, err := EncodeExtentList(ex)
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := cs.SaveBlob(ctx, 2, enc)
		n.ContentParts = [][]byte{b[:]}
		return n
	}
	tree := func(n Node) [32]byte {
		return xtRawTree(t, cs, n)
	}
	for _, tc := range []struct {
		name string
		a, b Node
		want []string
	}{
		{"inline vs parts, same content", file(false, c1, c2), file(true, c1, c2), nil},
		{"parts differ", file(true, c1), file(true, c1, c2), []string{"modified f 0x2 +2000 -0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := Diff(ctx, cs, tree(tc.a), tree(tc.b), nil, func(e DiffEntry) error {
				got = append(got, xtDiffLine(e))
				return nil
			})
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("diff = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
