package archive

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// fuzzFixture stores the blobs fuzzed trees may refer to: a subtree and a
// data chunk. It is deterministic, so seeds keep naming them.
func fuzzFixture(t testing.TB) (*archivetest.Store, id.ID, id.ID) {
	cs := archivetest.New()
	chunk := []byte("fuzz data chunk")
	data, _, err := cs.SaveBlob(context.Background(), id.DataBlob, chunk)
	if err != nil {
		t.Fatal(err)
	}
	sub := xtSave(t, cs, 0, xtFile("f", 0o644, chunk), xtLink("up", "../../outside"), xtDir("d", 0o755))
	return cs, sub, data
}

// FuzzExtract feeds arbitrary bytes as an archive's root tree to Walk,
// Diff and Extract: none may panic, and Extract must write nothing outside
// its destination whatever the tree says.
func FuzzExtract(f *testing.F) {
	_, sub, data := fuzzFixture(f)
	seed := func(nodes ...Node) {
		b, err := EncodeTree(&Tree{Nodes: nodes})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := xtDir("dir", 0o755).node
	dir.SetSubtree(sub)
	file := xtFile("file", 0o4755, []byte("fuzz data chunk")).node
	file.Content = []Extent{DataExtent(data, 15), HoleExtent(4096), DataExtent(data, 15)}
	file.Size, file.Nlink, file.Inode = 15+4096+15, 2, 9
	link := xtLink("link", "/tmp").node
	fifo := xtFile("p", 0o600, nil).node
	fifo.Type = TypeFIFO
	seed(dir, file, link, fifo)
	seed(file)
	seed()
	parts, _ := EncodeTree(&Tree{Parts: [][]byte{sub[:]}})
	f.Add(parts)
	f.Add([]byte("junk"))
	f.Add([]byte{0xa2, 0x01, 0x01, 0x02, 0x81, 0xa1, 0x01, 0x42, 0x2e, 0x2e})

	f.Fuzz(func(t *testing.T, tree []byte) {
		cs, sub, _ := fuzzFixture(t)
		ctx := context.Background()
		root, _, err := cs.SaveBlob(ctx, id.TreeBlob, tree)
		if err != nil {
			t.Fatal(err)
		}
		_ = Walk(ctx, cs, root, func([]byte, *Node) error { return nil })
		_ = Diff(ctx, cs, sub, root, nil, func(DiffEntry) error { return nil })

		box := t.TempDir()
		outside := filepath.Join(box, "outside")
		if err := os.Mkdir(outside, 0o755); err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(box, "dest")
		// Sparse, so that a tree claiming huge holes costs no disk space.
		_, _ = Extract(ctx, cs, xtRecord(root), ExtractOptions{Destination: dest, Sparse: true, Workers: 2, StripComponents: 1})
		_, _ = Extract(ctx, cs, xtRecord(root), ExtractOptions{Destination: dest, Sparse: true, Workers: 2})
		if got := xtListDir(t, outside); len(got) != 0 {
			t.Fatalf("written outside the destination: %q", got)
		}
		entries, err := os.ReadDir(box)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "outside" && e.Name() != "dest" {
				t.Fatalf("written next to the destination: %s", e.Name())
			}
		}
	})
}
