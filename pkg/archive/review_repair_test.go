package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// flakyStore fails loads of one blob with an I/O error (a network glitch,
// EIO): the blob is not lost, the read just did not work this time.
type flakyStore struct {
	*archivetest.Store
	fail id.ID
}

var errGlitch = errors.New("read tcp 10.0.0.1:22: connection reset by peer")

func (s *flakyStore) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	if b == s.fail {
		return nil, errGlitch
	}
	return s.Store.LoadBlob(ctx, b, dst)
}

// A transient read error on a tree or an extent list is not data loss: the
// Repairer must fail (or leave the entry alone), not rewrite the archive
// with the directory emptied / the file zeroed (the caller then deletes
// the old record, so the good data becomes unreachable and compact frees
// it).
func TestReviewRepairerTransientErrorIsNotLoss(t *testing.T) {
	ctx := context.Background()
	store := archivetest.New()
	tree := xtSave(t, store, 0,
		xtDir("dir", 0o755, xtFile("f", 0o644, []byte("healthy file in a healthy dir"))),
	)
	nodes, err := LoadTree(ctx, store, tree)
	if err != nil {
		t.Fatal(err)
	}
	fs := &flakyStore{Store: store, fail: nodes[0].SubtreeID()}
	present := func(b id.ID, _ uint64) (bool, error) {
		_, ok, err := store.Lookup(b)
		return ok, err
	}
	newTree, lost, changed, err := NewRepairer(ctx, fs, 1<<20, present).Repair(xtRecord(tree))
	if err == nil && (changed || len(lost) > 0) {
		t.Fatalf("a read glitch on dir's tree made the repair drop it: new tree %s, lost %+v", newTree.Short(), lost)
	}
}

// A file whose content is split over several extent lists (ContentParts)
// and that lost only one of them still has all the other lists and their
// data blobs: those ranges are good data and must stay restorable. The
// offsets of the lists after the lost one are known from the end (the
// sizes add up to Size).
func TestReviewRepairerPartialContentPartsLoss(t *testing.T) {
	ctx := context.Background()
	store := archivetest.New()
	data := xtRandom(3, 6*xtChunk)
	var ex []Extent
	for off := 0; off < len(data); off += xtChunk {
		b, _, err := store.SaveBlob(ctx, id.DataBlob, data[off:off+xtChunk])
		if err != nil {
			t.Fatal(err)
		}
		ex = append(ex, DataExtent(b, xtChunk))
	}
	var parts [][]byte
	for i := 0; i < len(ex); i += 2 {
		enc, err := EncodeExtentList(ex[i : i+2])
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := store.SaveBlob(ctx, id.TreeBlob, enc)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b[:])
	}
	n := xtFile("big", 0o644, data).node
	n.Content, n.ContentParts = nil, parts
	n.Size = uint64(len(data))
	root, err := SplitTree([]Node{n}, 1<<20, func(d []byte) (id.ID, error) {
		b, _, err := store.SaveBlob(ctx, id.TreeBlob, d)
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The middle extent list (bytes 2*xtChunk .. 4*xtChunk) is lost.
	var mid id.ID
	copy(mid[:], parts[1])
	store.Corrupt(mid, []byte("garbage"))
	present := func(b id.ID, _ uint64) (bool, error) {
		_, ok, err := store.Lookup(b)
		return ok, err
	}
	newTree, lost, changed, err := NewRepairer(ctx, store, 1<<20, present).Repair(xtRecord(root))
	if err != nil || !changed {
		t.Fatalf("Repair: %v %v", changed, err)
	}
	if len(lost) != 1 || lost[0].Bytes != 2*xtChunk {
		t.Errorf("lost %+v, want big with %d bytes lost (only the middle list)", lost, 2*xtChunk)
	}
	dest, _, _ := xtExtract(t, store, xtRecord(newTree), ExtractOptions{Workers: 2})
	got, err := os.ReadFile(filepath.Join(dest, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:2*xtChunk], data[:2*xtChunk]) || !bytes.Equal(got[4*xtChunk:], data[4*xtChunk:]) {
		t.Errorf("good ranges of big (bytes 0-%d and %d-) restored as zeros although their extent lists and blobs are intact", 2*xtChunk-1, 4*xtChunk)
	}
}

// A large directory is stored as a split tree (an index tree naming part
// blobs of consecutive nodes). When one part is lost, the nodes of the
// other parts, and the files they name, are intact: the Repairer should
// keep them (and mark the directory damaged), not empty the whole
// directory.
func TestReviewRepairerSplitTreePartLoss(t *testing.T) {
	ctx := context.Background()
	store := archivetest.New()
	var files []xt
	for i := range 40 {
		files = append(files, xtFile(fmt.Sprintf("file%02d", i), 0o644, []byte(fmt.Sprintf("content of file %d\n", i))))
	}
	// Split the big directory into parts of a few nodes each.
	root := xtSave(t, store, 0, xtDir("big", 0o755, files...))
	rootNodes, err := LoadTree(ctx, store, root)
	if err != nil {
		t.Fatal(err)
	}
	bigNodes, err := LoadTree(ctx, store, rootNodes[0].SubtreeID())
	if err != nil {
		t.Fatal(err)
	}
	split, err := SplitTree(bigNodes, 600, func(d []byte) (id.ID, error) {
		b, _, err := store.SaveBlob(ctx, id.TreeBlob, d)
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := store.LoadBlob(ctx, split, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := DecodeTree(data)
	if err != nil || len(tr.Parts) < 3 {
		t.Fatalf("want a tree split in >= 3 parts: %d, %v", len(tr.Parts), err)
	}
	rootNodes[0].SetSubtree(split)
	root, err = SplitTree(rootNodes, 1<<20, func(d []byte) (id.ID, error) {
		b, _, err := store.SaveBlob(ctx, id.TreeBlob, d)
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var part id.ID
	copy(part[:], tr.Parts[1])
	store.Corrupt(part, []byte("garbage"))
	present := func(b id.ID, _ uint64) (bool, error) {
		_, ok, err := store.Lookup(b)
		return ok, err
	}
	newTree, lost, _, err := NewRepairer(ctx, store, 600, present).Repair(xtRecord(root))
	if err != nil {
		t.Fatal(err)
	}
	dest, _, _ := xtExtract(t, store, xtRecord(newTree), ExtractOptions{Workers: 2})
	ents, _ := os.ReadDir(filepath.Join(dest, "big"))
	if len(ents) == 0 {
		t.Errorf("one of %d parts of big/ was lost, and the repair emptied the whole directory (%d good files dropped); lost %+v",
			len(tr.Parts), len(files)-len(files)/len(tr.Parts), lost)
	}
}
