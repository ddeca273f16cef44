package archive

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// TestAccountingSettle: pending blobs that the store can locate are folded
// into the totals during the run (the pending set stays bounded), and the
// totals are those of resolving everything at the end.
func TestAccountingSettle(t *testing.T) {
	store := archivetest.New()
	n := minSettle + 10
	ids := make([]id.ID, n)
	var blob [8]byte
	for i := range ids {
		binary.LittleEndian.PutUint64(blob[:], uint64(i))
		var err error
		if ids[i], _, err = store.SaveBlob(context.Background(), id.DataBlob, blob[:]); err != nil {
			t.Fatal(err)
		}
	}
	for _, batch := range []bool{false, true} {
		var cs ChunkStore = store
		if batch {
			cs = &batchStore{Store: store}
		}
		a := newAccounting(cs)
		for _, b := range ids {
			a.chunk(b, true, 8)
		}
		a.mu.Lock()
		pending := len(a.pending)
		a.mu.Unlock()
		if batch && pending >= minSettle || !batch && pending != n {
			t.Errorf("batch=%v: %d blobs pending after %d chunks", batch, pending, n)
		}
		if err := a.resolve(cs); err != nil {
			t.Fatal(err)
		}
		st := a.stats()
		// archivetest's stored length is the size + 40.
		if want := uint64(n) * 48; st.CompressedSize != want || st.DeduplicatedSize != want || st.NNewChunks != uint64(n) {
			t.Errorf("batch=%v: stats %+v, want compressed and deduplicated %d", batch, st, want)
		}
	}
}
