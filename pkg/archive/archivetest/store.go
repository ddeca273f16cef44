// Package archivetest provides an in-memory ChunkStore and ArchiveStore
// for testing package archive without a repository.
package archivetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// ErrNotFound is returned for unknown blobs and archives.
var ErrNotFound = errors.New("not found")

// Store keeps blobs and archive records in maps. IDs are unkeyed BLAKE3.
// It counts saves so tests can assert deduplication.
type Store struct {
	mu       sync.Mutex
	blobs    map[id.ID][]byte
	types    map[id.ID]id.BlobType
	archives map[id.ID][]byte
	// Saved counts blobs stored (not deduplicated); Loads counts LoadBlob calls.
	Saved, Loads int
}

// New returns an empty Store.
func New() *Store {
	return &Store{blobs: map[id.ID][]byte{}, types: map[id.ID]id.BlobType{}, archives: map[id.ID][]byte{}}
}

// BlobID returns BLAKE3-256 of data.
func (s *Store) BlobID(data []byte) id.ID { return id.ID(blake3.Sum256(data)) }

// SaveBlob stores a copy of data.
func (s *Store) SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error) {
	if err := ctx.Err(); err != nil {
		return id.ID{}, false, err
	}
	b := s.BlobID(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blobs[b]; ok {
		return b, false, nil
	}
	s.blobs[b] = append([]byte(nil), data...)
	s.types[b] = t
	s.Saved++
	return b, true, nil
}

// LoadBlob returns a copy of a stored blob appended to dst[:0].
func (s *Store) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Loads++
	data, ok := s.blobs[b]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", b.Short(), ErrNotFound)
	}
	return append(dst[:0], data...), nil
}

// Flush does nothing: the store is always "durable".
func (s *Store) Flush(ctx context.Context) error { return ctx.Err() }

// Corrupt replaces a stored blob's content (for damage tests).
func (s *Store) Corrupt(b id.ID, data []byte) {
	s.mu.Lock()
	s.blobs[b] = data
	s.mu.Unlock()
}

// Blobs returns the number of stored blobs.
func (s *Store) Blobs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.blobs)
}

// SaveArchive stores an archive record.
func (s *Store) SaveArchive(ctx context.Context, rec []byte) (id.ID, error) {
	a := id.Hash(rec)
	s.mu.Lock()
	s.archives[a] = append([]byte(nil), rec...)
	s.mu.Unlock()
	return a, nil
}

// LoadArchive returns an archive record.
func (s *Store) LoadArchive(ctx context.Context, a id.ID) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.archives[a]
	if !ok {
		return nil, fmt.Errorf("archive %s: %w", a.Short(), ErrNotFound)
	}
	return append([]byte(nil), rec...), nil
}

// ListArchives returns all archive IDs.
func (s *Store) ListArchives(ctx context.Context) (id.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := id.NewSet()
	for a := range s.archives {
		out.Insert(a)
	}
	return out, nil
}

// DeleteArchive removes an archive record.
func (s *Store) DeleteArchive(ctx context.Context, a id.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.archives[a]; !ok {
		return fmt.Errorf("archive %s: %w", a.Short(), ErrNotFound)
	}
	delete(s.archives, a)
	return nil
}

// Lookup reports a stored blob with Length = its size + 40 (as if sealed).
func (s *Store) Lookup(b id.ID) (index.Location, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.blobs[b]
	if !ok {
		return index.Location{}, false, nil
	}
	return index.Location{Type: s.types[b], Length: uint32(len(data) + 40), RawLength: uint32(len(data))}, true, nil
}
