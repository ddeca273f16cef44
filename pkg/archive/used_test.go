package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// usedFixture is a store with two archives sharing a subtree, a file with
// an extent list, a split directory, and a blob no archive uses.
type usedFixture struct {
	s      *archivetest.Store
	a1, a2 Entry
	want1  id.Set // blobs reachable from a1
	want2  id.Set // blobs reachable from a2
	unused id.ID
	sub    id.ID
}

func newUsedFixture(t *testing.T) *usedFixture {
	t.Helper()
	ctx := context.Background()
	s := archivetest.New()
	save := func(typ id.BlobType, data []byte) id.ID {
		t.Helper()
		b, _, err := s.SaveBlob(ctx, typ, data)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tree := func(nodes ...Node) id.ID {
		t.Helper()
		data, err := EncodeTree(&Tree{Nodes: nodes})
		if err != nil {
			t.Fatal(err)
		}
		return save(id.TreeBlob, data)
	}
	d := make([]id.ID, 7)
	for i := range d {
		d[i] = save(id.DataBlob, fmt.Appendf(nil, "data blob %d", i))
	}
	el, err := EncodeExtentList([]Extent{DataExtent(d[4], 12), HoleExtent(5), DataExtent(d[5], 12)})
	if err != nil {
		t.Fatal(err)
	}
	elID := save(id.TreeBlob, el)
	sub := tree(Node{Name: []byte("f3"), Type: TypeFile, Size: 12, Content: []Extent{DataExtent(d[2], 12)}})
	root1 := tree(
		Node{Name: []byte("f1"), Type: TypeFile, Size: 112, Content: []Extent{DataExtent(d[1], 12), HoleExtent(100)}},
		Node{Name: []byte("f2"), Type: TypeFile, Size: 29, ContentParts: [][]byte{elID[:]}},
		Node{Name: []byte("link"), Type: TypeSymlink, LinkTarget: []byte("f1")},
		Node{Name: []byte("sub"), Type: TypeDir, Subtree: sub[:]},
	)
	// A directory split into parts, one of which names d3.
	var big []Node
	for i := range 40 {
		n := Node{Name: fmt.Appendf(nil, "g%03d", i), Type: TypeFile}
		if i == 33 {
			n.Size, n.Content = 12, []Extent{DataExtent(d[3], 12)}
		}
		big = append(big, n)
	}
	var parts []id.ID
	split, err := SplitTree(big, 400, func(data []byte) (id.ID, error) {
		b := save(id.TreeBlob, data)
		parts = append(parts, b)
		return b, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 3 {
		t.Fatalf("directory not split: %d blobs", len(parts))
	}
	root2 := tree(
		Node{Name: []byte("big"), Type: TypeDir, Subtree: split[:]},
		Node{Name: []byte("sub"), Type: TypeDir, Subtree: sub[:]},
	)
	entry := func(name string, root id.ID) Entry {
		return Entry{ID: id.Hash([]byte(name)), Record: &Record{Name: name, Tree: root[:]}}
	}
	return &usedFixture{
		s:  s,
		a1: entry("one", root1), a2: entry("two", root2),
		want1:  id.NewSet(root1, sub, elID, d[1], d[2], d[4], d[5]),
		want2:  id.NewSet(append(parts, root2, sub, d[2], d[3])...),
		unused: d[6], sub: sub,
	}
}

// markSet is a mark function over a map, counting marks.
type markSet struct {
	set   id.Set
	marks map[id.ID]int
}

func newMarkSet() *markSet { return &markSet{set: id.NewSet(), marks: map[id.ID]int{}} }

func (m *markSet) mark(b id.ID) (bool, error) {
	m.marks[b]++
	seen := m.set.Has(b)
	m.set.Insert(b)
	return seen, nil
}

func TestUsedBlobs(t *testing.T) {
	t.Parallel()
	f := newUsedFixture(t)
	both := union(f.want1, f.want2)
	tests := []struct {
		name string
		list []Entry
		want id.Set
	}{
		{"none", nil, id.NewSet()},
		{"one", []Entry{f.a1}, f.want1},
		{"two", []Entry{f.a2}, f.want2},
		{"both", []Entry{f.a1, f.a2}, both},
		{"both twice", []Entry{f.a2, f.a1, f.a2}, both},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMarkSet()
			if err := UsedBlobs(context.Background(), f.s, tt.list, m.mark); err != nil {
				t.Fatal(err)
			}
			got, want := m.set.Sorted(), tt.want.Sorted()
			if !slices.Equal(got, want) {
				t.Errorf("marked %d blobs, want %d", len(got), len(want))
			}
			if m.set.Has(f.unused) {
				t.Errorf("unused blob marked")
			}
		})
	}
}

func TestUsedBlobsLoadsSharedTreesOnce(t *testing.T) {
	t.Parallel()
	f := newUsedFixture(t)
	m := newMarkSet()
	f.s.Loads = 0
	list := []Entry{f.a1, f.a2, f.a1, f.a2}
	if err := UsedBlobs(context.Background(), f.s, list, m.mark); err != nil {
		t.Fatal(err)
	}
	// Every tree and extent list is loaded once: root1, sub, the extent
	// list, and the trees of two (root2, the split directory and its
	// parts; sub again is not loaded).
	if want := 3 + len(f.want2) - 3; f.s.Loads != want {
		t.Errorf("%d blob loads, want %d (one per distinct tree)", f.s.Loads, want)
	}
	if m.marks[f.sub] != 2 {
		t.Errorf("shared subtree marked %d times, want once per tree naming it (2)", m.marks[f.sub])
	}
	if !slices.Equal(m.set.Sorted(), union(f.want1, f.want2).Sorted()) {
		t.Errorf("marked %d blobs", len(m.set))
	}
}

func union(a, b id.Set) id.Set {
	out := id.NewSet()
	for x := range a {
		out.Insert(x)
	}
	for x := range b {
		out.Insert(x)
	}
	return out
}

func TestUsedBlobsErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("mark failed")
	tests := []struct {
		name   string
		damage func(f *usedFixture)
		mark   func(id.ID) (bool, error)
		want   error
	}{
		{"damaged subtree", func(f *usedFixture) { f.s.Corrupt(f.sub, []byte("not cbor")) }, nil, ErrMalformed},
		{"missing root", func(f *usedFixture) {
			missing := id.Hash([]byte("nowhere"))
			f.a1.Record.Tree = missing[:]
		}, nil, archivetest.ErrNotFound},
		{"mark fails", func(*usedFixture) {}, func(id.ID) (bool, error) { return false, boom }, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newUsedFixture(t)
			tt.damage(f)
			mark := tt.mark
			if mark == nil {
				mark = newMarkSet().mark
			}
			err := UsedBlobs(context.Background(), f.s, []Entry{f.a2, f.a1}, mark)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
