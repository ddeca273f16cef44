package repo

import (
	"fmt"
	"slices"
	"sync"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// usedSet is the mark set of a compaction: the IDs of every blob in the
// index cache, sorted, and one bit per blob. Its memory is about 32 bytes
// per blob in the index (the sorted IDs) plus one bit, independent of the
// number of archives: it is bounded by the index, as the cache itself is.
// A blob that is not in the index cannot be marked: mark fails, so that a
// compaction never runs while an archive references a blob the index does
// not know (it could live in an unindexed pack compaction would delete).
type usedSet struct {
	mu   sync.Mutex
	ids  []id.ID // ascending, as the cache iterates
	bits []uint64
}

// newUsedSet reads every blob ID from the cache.
func (r *Repo) newUsedSet() (*usedSet, error) {
	st, err := r.cache.Stats()
	if err != nil {
		return nil, err
	}
	// The counter only sizes the first allocation; a damaged one must not
	// make it huge.
	s := &usedSet{ids: make([]id.ID, 0, min(max(st.Blobs, 0), 1<<22))}
	err = r.cache.ForEachBlob(func(e index.Entry) error {
		if n := len(s.ids); n > 0 && s.ids[n-1].Compare(e.ID) >= 0 {
			return fmt.Errorf("compact: index cache does not list blobs in order: %w", index.ErrCorrupt)
		}
		s.ids = append(s.ids, e.ID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compact: read index cache: %w", err)
	}
	s.bits = make([]uint64, (len(s.ids)+63)/64)
	return s, nil
}

// mark records b as used and reports whether it already was. It returns an
// error wrapping ErrBlobNotFound for a blob the index does not know. It is
// safe for concurrent use.
func (s *usedSet) mark(b id.ID) (bool, error) {
	i, ok := slices.BinarySearchFunc(s.ids, b, id.ID.Compare)
	if !ok {
		return false, fmt.Errorf("blob %s is referenced by an archive but is in no index file (run 'gobak check'): %w", b, ErrBlobNotFound)
	}
	w, m := i/64, uint64(1)<<(i%64)
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.bits[w]&m != 0
	s.bits[w] |= m
	return seen, nil
}

// usedAt reports whether the i-th blob (in ID order) is marked.
func (s *usedSet) usedAt(i int) bool {
	return s.bits[i/64]&(uint64(1)<<(i%64)) != 0
}
