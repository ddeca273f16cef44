package check

import (
	"context"
	"errors"
	"fmt"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

// errReadOnly is returned by the write methods of store.
var errReadOnly = errors.New("check: the repository is opened read-only")

// store is the archive.ChunkStore the archives part reads trees through:
// it finds blobs in Check's own view of the index files (not in the local
// cache, which may predate damage) and verifies each one. Its write methods
// fail.
type store struct{ c *checker }

// LoadBlob reads and verifies blob b, trying each location the index
// files give for it, or, if none does, the pack no index names that holds
// it.
func (s store) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	locs := s.c.view.blobs[b]
	if len(locs) == 0 {
		loc, ok := s.c.unindexedLoc(b)
		if !ok {
			return nil, fmt.Errorf("blob %s: %w", b.Short(), repo.ErrBlobNotFound)
		}
		locs = []index.Location{loc}
	}
	var errs []error
	var failed []index.Location
	for _, loc := range locs {
		sealed := make([]byte, loc.Length)
		h := backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}
		if err := backend.ReadAt(ctx, s.c.be, h, int64(loc.Offset), sealed); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("blob %s in pack %s: %w: %v", b.Short(), loc.Pack.Short(), repo.ErrDamaged, err))
			failed = append(failed, loc)
			continue
		}
		bufs := &buffers{plain: dst}
		if err := s.c.openBlob(bufs, sealed, b, loc.RawLength); err != nil {
			errs = append(errs, fmt.Errorf("blob %s in pack %s: %w: %v", b.Short(), loc.Pack.Short(), repo.ErrDamaged, err))
			failed = append(failed, loc)
			continue
		}
		for i, f := range failed {
			s.c.badCopy(b, f, loc, errs[i])
		}
		return bufs.plain, nil
	}
	return nil, errors.Join(errs...)
}

// Lookup returns the first location the index files give for b.
func (s store) Lookup(b id.ID) (index.Location, bool, error) {
	locs := s.c.view.blobs[b]
	if len(locs) == 0 {
		return index.Location{}, false, nil
	}
	return locs[0], true, nil
}

// BlobID computes a blob's ID with the repository's key.
func (s store) BlobID(data []byte) id.ID { return s.c.key.BlobID(data) }

// SaveBlob fails: check never writes.
func (s store) SaveBlob(context.Context, id.BlobType, []byte) (id.ID, bool, error) {
	return id.ID{}, false, errReadOnly
}

// Flush fails: check never writes.
func (s store) Flush(context.Context) error { return errReadOnly }

// unindexedLoc returns where a blob no index file names was found.
func (c *checker) unindexedLoc(b id.ID) (index.Location, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	loc, ok := c.unindexed[b]
	return loc, ok
}

// badCopy reports, once, that the copy of blob b at loc fails verification
// while the copy at good verifies: other commands may read the bad one,
// and a repair drops it.
func (c *checker) badCopy(b id.ID, loc, good index.Location, err error) {
	c.mu.Lock()
	key := [2]id.ID{loc.Pack, b}
	seen := c.badCopies[key]
	if c.badCopies == nil {
		c.badCopies = map[[2]id.ID]bool{}
	}
	c.badCopies[key] = true
	c.mu.Unlock()
	if !seen {
		c.emit(Problem{Kind: KindBlobDamaged, Pack: loc.Pack, Blob: b,
			Message: fmt.Sprintf("%s blob: this copy fails verification (%v); the copy in pack %s is good ('gobak check --repair' drops the bad one)", loc.Type, err, good.Pack.Short())})
	}
}
