package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// xtBatch gives any store the batch load of *repo.Repo (in reverse
// order, which LoadBlobs allows), counting the blobs asked for.
type xtBatch struct {
	ChunkStore
	calls, blobs *atomic.Int64
}

func newXTBatch(cs ChunkStore) xtBatch {
	return xtBatch{ChunkStore: cs, calls: new(atomic.Int64), blobs: new(atomic.Int64)}
}

func (s xtBatch) LoadBlobs(ctx context.Context, bids []id.ID, fn func(int, []byte, error) error) error {
	s.calls.Add(1)
	s.blobs.Add(int64(len(bids)))
	for i := len(bids) - 1; i >= 0; i-- {
		data, err := s.LoadBlob(ctx, bids[i], nil)
		if err := fn(i, data, err); err != nil {
			return err
		}
	}
	return nil
}

func TestExtractBatchedRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		sparse  bool
	}{
		{"one worker", 1, false},
		{"parallel sparse", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := archivetest.New()
			cs := newXTBatch(store)
			tree := xtSave(t, cs, 0, xtSample(t)...)
			dest, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Workers: tc.workers, Sparse: tc.sparse})
			if len(w.list) != 0 {
				t.Fatalf("warnings:\n%s", w)
			}
			xtCompare(t, store, tree, dest)
			if st.Files != 8 || cs.calls.Load() == 0 {
				t.Errorf("stats %+v, %d batch loads", st, cs.calls.Load())
			}
		})
	}
}

func TestExtractBatchedDenseHoles(t *testing.T) {
	const mib = 1 << 20
	data := make([]byte, 4*mib)
	copy(data[mib:], xtRandom(2, xtChunk))
	store := archivetest.New()
	cs := newXTBatch(store)
	tree := xtSave(t, cs, 0, xt{node: xtFile("holes", 0o644, data).node, data: data, holes: true})
	dest, _, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{})
	if len(w.list) != 0 {
		t.Fatalf("warnings:\n%s", w)
	}
	xtCompare(t, store, tree, dest)
	// Not sparse: the holes are allocated (fallocate or written zeros).
	if b := xtBlocks(t, filepath.Join(dest, "holes")); b < 4*mib/512 {
		t.Errorf("%d blocks allocated, want at least %d", b, 4*mib/512)
	}
}

func TestExtractBatchedDamaged(t *testing.T) {
	store := archivetest.New()
	cs := newXTBatch(xtVerifying{store})
	good, bad := xtRandom(4, 2*xtChunk), xtRandom(5, 2*xtChunk+7)
	tree := xtSave(t, cs, 0,
		xtFile("a-good", 0o644, good),
		xtFile("b-bad", 0o644, bad),
		xtFile("c-same", 0o644, good), // the same blobs again, in the same batch
	)
	store.Corrupt(store.BlobID(bad[xtChunk:2*xtChunk]), []byte("flipped"))
	dest, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Workers: 1})
	if st.Damaged != 1 || st.Files != 3 || len(w.list) != 1 || w.list[0] != "b-bad" {
		t.Fatalf("stats %+v, warnings:\n%s", st, w)
	}
	for name, want := range map[string][]byte{
		"a-good": good,
		"c-same": good,
		"b-bad":  slices.Concat(bad[:xtChunk], make([]byte, xtChunk), bad[2*xtChunk:]),
	} {
		if got, err := os.ReadFile(filepath.Join(dest, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", name, len(got), err)
		}
	}
}
