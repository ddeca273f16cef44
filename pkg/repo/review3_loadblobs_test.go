package repo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadBlobsTruncatedPackKeepsIntactBlobs: a pack cut short after its
// first blobs (a partial upload, a damaged disk) still holds those blobs
// intact, and LoadBlob loads them. LoadBlobs reads the blobs of a pack with
// one ranged read; when that read comes up short it must not report the
// blobs that are wholly inside the part that is there as damaged (a
// restore then writes zeros instead of the data that is in the repository).
func TestLoadBlobsTruncatedPackKeepsIntactBlobs(t *testing.T) {
	r, dir, _ := newLocalRepo(t, nil)
	ids, content := savedBlobs(t, r, 20, 1000)
	first, ok, err := r.Lookup(ids[0])
	if err != nil || !ok {
		t.Fatalf("lookup: %v %v", ok, err)
	}
	last := first
	for _, b := range ids[1:] {
		loc, ok, err := r.Lookup(b)
		if err != nil || !ok {
			t.Fatalf("lookup: %v %v", ok, err)
		}
		if loc.Pack != first.Pack {
			t.Fatalf("blobs in more than one pack; the test needs one")
		}
		if loc.Offset > last.Offset {
			last = loc
		}
	}
	// Cut the pack in the middle of its last blob: every other blob is
	// still there in full.
	path := filepath.Join(dir, "data", first.Pack.String()[:2], first.Pack.String())
	if err := os.Truncate(path, int64(last.Offset)+int64(last.Length)/2); err != nil {
		t.Fatal(err)
	}
	var lostBlob int
	for i, b := range ids {
		if loc, _, _ := r.Lookup(b); loc.Offset == last.Offset {
			lostBlob = i
			continue
		}
		data, err := r.LoadBlob(context.Background(), b, nil)
		if err != nil || !bytes.Equal(data, content[b]) {
			t.Fatalf("LoadBlob of intact blob %d: %v", i, err)
		}
	}
	bad := 0
	err = r.LoadBlobs(context.Background(), ids, func(i int, data []byte, err error) error {
		if i == lostBlob {
			return nil
		}
		if err != nil {
			bad++
			if bad == 1 {
				t.Errorf("LoadBlobs: intact blob %d (LoadBlob loads it): %v", i, err)
			}
		} else if !bytes.Equal(data, content[ids[i]]) {
			t.Errorf("LoadBlobs: blob %d: wrong content", i)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("LoadBlobs reported %d of %d intact blobs as damaged", bad, len(ids)-1)
	}
}
