package archive

import (
	"context"
	"fmt"

	"github.com/gobak/gobak/pkg/id"
)

// Batched restore. When the store can load many blobs at once in storage
// order (*repo.Repo can: blobs stored next to each other in a pack come
// with one ranged read), a worker takes the segment it was given plus the
// segments already queued behind it, up to batchBytes of content, and
// loads all their blobs in one call. Small files, each a segment of its
// own, are then restored pack by pack instead of blob by blob.

// batchLoader is implemented by stores that load blobs in batches (see
// repo.Repo.LoadBlobs): fn is called once per index of bids, with the
// blob's plaintext (valid during the call) or the error loading it.
type batchLoader interface {
	LoadBlobs(ctx context.Context, bids []id.ID, fn func(i int, data []byte, err error) error) error
}

// Batch bounds: the content of the segments a worker takes at once.
const (
	batchBytes = 16 << 20
	batchSegs  = 256
)

// takeBatch returns s and the segments queued behind it, up to the batch
// bounds, without waiting for more.
func (x *extractor) takeBatch(s *xSegment) []*xSegment {
	segs := []*xSegment{s}
	size := s.size()
	for size < batchBytes && len(segs) < batchSegs {
		select {
		case t, ok := <-x.jobs:
			if !ok {
				return segs
			}
			segs = append(segs, t)
			size += t.size()
		default:
			return segs
		}
	}
	return segs
}

// size is the number of bytes a segment covers.
func (s *xSegment) size() uint64 {
	var n uint64
	for _, e := range s.ext {
		n += e.Size
	}
	return n
}

// target is a place a blob's content goes to.
type target struct {
	seg  *xSegment
	off  uint64
	size uint64
}

// writeBatch writes segs: holes directly, blobs through one LoadBlobs
// call. Failures are recorded in the segments' files.
func (x *extractor) writeBatch(ctx context.Context, bl batchLoader, segs []*xSegment) {
	var ids []id.ID
	var where [][]target
	slot := map[id.ID]int{}
	for _, s := range segs {
		off := s.off
		for _, e := range s.ext {
			if e.IsHole() {
				if !x.o.Sparse && !s.file.writeFailed() {
					if err := writeZeros(ctx, s.file.f, off, e.Size); err != nil {
						s.file.fail(false, err)
					}
				}
				off += e.Size
				continue
			}
			b := e.BlobID()
			k, ok := slot[b]
			if !ok {
				k = len(ids)
				slot[b] = k
				ids = append(ids, b)
				where = append(where, nil)
			}
			where[k] = append(where[k], target{seg: s, off: off, size: e.Size})
			off += e.Size
		}
	}
	if len(ids) == 0 {
		return
	}
	err := bl.LoadBlobs(ctx, ids, func(i int, data []byte, err error) error {
		for _, t := range where[i] {
			fl := t.seg.file
			switch {
			case err != nil:
				fl.fail(true, fmt.Errorf("data at offset %d: %w", t.off, err))
			case uint64(len(data)) != t.size:
				fl.fail(true, fmt.Errorf("data at offset %d: %w: blob %s has %d bytes, extent says %d", t.off, ErrMalformed, ids[i].Short(), len(data), t.size))
			case fl.writeFailed():
			default:
				var werr error
				if x.o.Sparse {
					werr = writeSparse(fl.f, data, t.off)
				} else {
					_, werr = fl.f.WriteAt(data, int64(t.off))
				}
				if werr != nil {
					fl.fail(false, werr)
				}
			}
		}
		return ctx.Err()
	})
	if err != nil && ctx.Err() == nil {
		// The store failed as a whole (its index, say): every blob of
		// the batch is unreadable.
		for _, ts := range where {
			for _, t := range ts {
				t.seg.file.fail(true, fmt.Errorf("data at offset %d: %w", t.off, err))
			}
		}
	}
}

// writeFailed reports whether a write to the file failed (later writes
// are skipped).
func (fl *xFile) writeFailed() bool {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.writeErr != nil
}
