package index

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

var testRepo = id.Hash([]byte("test repository"))

// openTest opens a cache in a fresh temporary directory and closes it when
// the test ends.
func openTest(t testing.TB) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cache", "index.db"), testRepo)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testID returns a deterministic ID for (kind, n).
func testID(kind string, n int) id.ID {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	return id.Hash(append([]byte(kind), b[:]...))
}

// testEntries returns n entries for blobs first..first+n-1, laid out back to
// back as in a pack; every third blob is a tree.
func testEntries(first, n int) []Entry {
	out := make([]Entry, n)
	var off uint32
	for i := range out {
		typ := id.DataBlob
		if (first+i)%3 == 0 {
			typ = id.TreeBlob
		}
		length := uint32(100 + (first+i)%50)
		out[i] = Entry{ID: testID("blob", first+i), Location: Location{
			Type: typ, Offset: off, Length: length, RawLength: 2 * length,
		}}
		off += length
	}
	return out
}

// mustAddPack adds entries as pack and fails the test on error.
func mustAddPack(t testing.TB, c *Cache, pack id.ID, entries []Entry) {
	t.Helper()
	if err := c.AddPack(pack, entries); err != nil {
		t.Fatalf("AddPack %s: %v", pack.Short(), err)
	}
}

// mustStats returns c.Stats and fails the test on error.
func mustStats(t testing.TB, c *Cache) Stats {
	t.Helper()
	st, err := c.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// wantLocation checks that blob is found at want.
func wantLocation(t testing.TB, c *Cache, blob id.ID, want Location) {
	t.Helper()
	got, ok, err := c.Lookup(blob)
	if err != nil || !ok {
		t.Fatalf("Lookup %s: found=%v err=%v", blob.Short(), ok, err)
	}
	if got != want {
		t.Fatalf("Lookup %s = %+v, want %+v", blob.Short(), got, want)
	}
}

// statsOf computes the Stats that adding packs in order should produce.
func statsOf(packs [][]Entry) Stats {
	var st Stats
	seen := id.NewSet()
	for _, entries := range packs {
		st.Packs++
		for _, e := range entries {
			if seen.Has(e.ID) {
				continue
			}
			seen.Insert(e.ID)
			st.Blobs++
			st.StoredBytes += uint64(e.Length)
			st.RawBytes += uint64(e.RawLength)
			if e.Type == id.DataBlob {
				st.DataBlobs++
				st.DataStored += uint64(e.Length)
				st.DataRaw += uint64(e.RawLength)
			} else {
				st.TreeBlobs++
			}
		}
	}
	return st
}
