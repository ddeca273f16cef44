package repo

import (
	"context"

	"github.com/gobak/gobak/pkg/backend"
)

// Stats summarises a repository's contents, from the index cache (packs
// and blobs) and the repository's listings (files).
type Stats struct {
	Packs       int
	Blobs       int
	DataBlobs   int
	TreeBlobs   int
	StoredBytes uint64 // sealed blob bytes in indexed packs
	RawBytes    uint64 // plaintext bytes of those blobs
	DataStored  uint64 // StoredBytes of data blobs alone (file content)
	DataRaw     uint64 // RawBytes of data blobs alone
	IndexFiles  int
	Archives    int
	Keys        int
}

// Stats returns the repository's statistics.
func (r *Repo) Stats(ctx context.Context) (Stats, error) {
	cs, err := r.cache.Stats()
	if err != nil {
		return Stats{}, err
	}
	s := Stats{Packs: cs.Packs, Blobs: cs.Blobs, DataBlobs: cs.DataBlobs, TreeBlobs: cs.TreeBlobs, StoredBytes: cs.StoredBytes, RawBytes: cs.RawBytes, DataStored: cs.DataStored, DataRaw: cs.DataRaw}
	count := func(t backend.FileType) (int, error) {
		n := 0
		err := r.be.List(ctx, t, func(backend.FileInfo) error { n++; return nil })
		return n, err
	}
	if s.IndexFiles, err = count(backend.IndexFile); err != nil {
		return s, err
	}
	if s.Archives, err = count(backend.ArchiveFile); err != nil {
		return s, err
	}
	if s.Keys, err = count(backend.KeyFile); err != nil {
		return s, err
	}
	return s, nil
}
