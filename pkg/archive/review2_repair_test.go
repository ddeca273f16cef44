package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// review2File builds a file of extents (sizes; 0 = a 3000-byte hole)
// spread over extent lists of perList extents each.
func review2File(t *testing.T, store *archivetest.Store, sizes []int, perList int) (Node, []byte, []id.ID, [][]byte) {
	t.Helper()
	ctx := context.Background()
	var data []byte
	var ex []Extent
	var blobs []id.ID
	for i, s := range sizes {
		if s == 0 {
			data = append(data, make([]byte, 3000)...)
			ex = append(ex, HoleExtent(3000))
			blobs = append(blobs, id.ID{})
			continue
		}
		chunk := xtRandom(uint64(100+i), s)
		b, _, err := store.SaveBlob(ctx, id.DataBlob, chunk)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, chunk...)
		ex = append(ex, DataExtent(b, uint64(s)))
		blobs = append(blobs, b)
	}
	var parts [][]byte
	for i := 0; i < len(ex); i += perList {
		enc, err := EncodeExtentList(ex[i:min(i+perList, len(ex))])
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := store.SaveBlob(ctx, id.TreeBlob, enc)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b[:])
	}
	n := xtFile("f", 0o644, nil).node
	n.Content, n.ContentParts, n.Size = nil, parts, uint64(len(data))
	return n, data, blobs, parts
}

func TestReview2RepairerContentPartsTable(t *testing.T) {
	sizes := []int{1000, 2000, 0, 1500, 700, 0, 2500, 900, 1100} // 3 per list: 3 lists
	off := func(i int) uint64 {
		var o uint64
		for _, s := range sizes[:i] {
			if s == 0 {
				s = 3000
			}
			o += uint64(s)
		}
		return o
	}
	cases := []struct {
		name        string
		lostLists   []int
		lostBlobs   []int
		oldDamaged  []uint64
		wantDamaged []uint64
		maxTree     int
	}{
		{"first list", []int{0}, nil, nil, []uint64{0, off(3)}, 1 << 20},
		{"last list", []int{2}, nil, nil, []uint64{off(6), off(9)}, 1 << 20},
		{"middle list", []int{1}, nil, nil, []uint64{off(3), off(6)}, 1 << 20},
		{"first and last", []int{0, 2}, nil, nil, []uint64{0, off(9)}, 1 << 20},
		{"list and a blob after it", []int{0}, []int{7}, nil, []uint64{0, off(3), off(7), off(8)}, 1 << 20},
		{"list and a blob before it", []int{2}, []int{1}, nil, []uint64{off(1), off(2), off(6), off(9)}, 1 << 20},
		{"only blobs, re-split", nil, []int{0, 8}, nil, []uint64{0, off(1), off(8), off(9)}, 100},
		{"list, re-split", []int{1}, nil, nil, []uint64{off(3), off(6)}, 100},
		{"old damage kept", []int{2}, nil, []uint64{off(2), off(3)}, []uint64{off(2), off(3), off(6), off(9)}, 1 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := archivetest.New()
			n, data, blobs, parts := review2File(t, store, sizes, 3)
			n.Damaged = tc.oldDamaged
			root, err := SplitTree([]Node{n}, 1<<20, func(d []byte) (id.ID, error) {
				b, _, err := store.SaveBlob(ctx, id.TreeBlob, d)
				return b, err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tc.lostLists {
				var p id.ID
				copy(p[:], parts[l])
				store.Corrupt(p, []byte("garbage"))
			}
			missing := id.NewSet()
			for _, b := range tc.lostBlobs {
				missing.Insert(blobs[b])
			}
			present := func(b id.ID, _ uint64) (bool, error) {
				if missing.Has(b) {
					return false, nil
				}
				_, ok, err := store.Lookup(b)
				return ok, err
			}
			newTree, lost, changed, err := NewRepairer(ctx, store, tc.maxTree, present).Repair(xtRecord(root))
			if err != nil || !changed {
				t.Fatalf("Repair: %v %v", changed, err)
			}
			nodes, err := LoadTree(ctx, store, newTree)
			if err != nil || len(nodes) != 1 {
				t.Fatal(err)
			}
			got := nodes[0]
			if !slices.Equal(got.Damaged, tc.wantDamaged) {
				t.Errorf("Damaged %v, want %v", got.Damaged, tc.wantDamaged)
			}
			var wantLost uint64
			for i := 0; i+1 < len(tc.wantDamaged); i += 2 {
				wantLost += tc.wantDamaged[i+1] - tc.wantDamaged[i]
			}
			for i := 0; i+1 < len(tc.oldDamaged); i += 2 {
				wantLost -= tc.oldDamaged[i+1] - tc.oldDamaged[i]
			}
			if len(lost) != 1 || lost[0].Bytes != wantLost {
				t.Errorf("lost %+v, want %d bytes", lost, wantLost)
			}
			ex, err := Extents(ctx, store, &got)
			if err != nil {
				t.Fatalf("extents of the repaired file: %v", err)
			}
			for _, e := range ex {
				if !e.IsHole() && missing.Has(e.BlobID()) {
					t.Errorf("repaired file still references missing blob %s", e.BlobID().Short())
				}
			}
			dest, _, w := xtExtract(t, store, xtRecord(newTree), ExtractOptions{Workers: 2})
			out, err := os.ReadFile(filepath.Join(dest, "f"))
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(data)
			for i := 0; i+1 < len(tc.wantDamaged); i += 2 {
				clear(want[tc.wantDamaged[i]:tc.wantDamaged[i+1]])
			}
			if !bytes.Equal(out, want) {
				t.Errorf("extracted content differs from the good ranges + zeros (len %d vs %d)", len(out), len(want))
			}
			if len(w.list) != 1 {
				t.Errorf("warnings: %s", w)
			}
		})
	}
}

// Hard links to a file that lost data: every name of it is listed in the
// record's lost paths, but extract warns only for the first name; the
// others are hard links to zero-filled data with no warning.
func TestReview2RepairHardlinkWarnsEveryName(t *testing.T) {
	ctx := context.Background()
	store := archivetest.New()
	data := xtRandom(7, 5000)
	link := func(n *Node) { n.Nlink, n.Inode, n.Device = 2, 42, 1 }
	root := xtSave(t, store, 0,
		xtFile("h1", 0o644, data).with(link),
		xtFile("h2", 0o644, data).with(link),
	)
	nodes, err := LoadTree(ctx, store, root)
	if err != nil {
		t.Fatal(err)
	}
	gone := nodes[0].Content[0].BlobID()
	present := func(b id.ID, _ uint64) (bool, error) { return b != gone, nil }
	newTree, lost, _, err := NewRepairer(ctx, store, 1<<20, present).Repair(xtRecord(root))
	if err != nil {
		t.Fatal(err)
	}
	if len(lost) != 2 {
		t.Fatalf("lost %+v", lost)
	}
	_, st, w := xtExtract(t, store, xtRecord(newTree), ExtractOptions{Workers: 2})
	if !slices.Contains(w.list, "h2") {
		t.Errorf("h2 (a hard link to the damaged h1, all zeros) restored without a warning; warnings:\n%s(stats %+v)", w, st)
	}
}

// A tree blob that loads and authenticates (its ID is the keyed hash of
// its content) but is of a newer tree version is good data this version
// cannot read, like the newer archive records the repair now keeps. The
// Repairer counts it as lost: the directory is emptied, the archive is
// rewritten (and check --repair deletes the original record), and the
// blob is listed as unreadable for salvage.
func TestReview2RepairerKeepsNewerTreeVersion(t *testing.T) {
	ctx := context.Background()
	store := archivetest.New()
	newer, err := encMode.Marshal(&Tree{Version: TreeVersion + 1, Nodes: []Node{xtFile("f", 0o644, nil).node}})
	if err != nil {
		t.Fatal(err)
	}
	sub, _, err := store.SaveBlob(ctx, id.TreeBlob, newer)
	if err != nil {
		t.Fatal(err)
	}
	dir := xtDir("d", 0o755).node
	dir.SetSubtree(sub)
	root, err := SplitTree([]Node{dir}, 1<<20, func(d []byte) (id.ID, error) {
		b, _, err := store.SaveBlob(ctx, id.TreeBlob, d)
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	present := func(b id.ID, _ uint64) (bool, error) { _, ok, err := store.Lookup(b); return ok, err }
	_, lost, changed, err := NewRepairer(ctx, store, 1<<20, present).Repair(xtRecord(root))
	if err == nil && changed {
		t.Errorf("an authentic tree of version %d counted as lost: %+v", TreeVersion+1, lost)
	}
}
