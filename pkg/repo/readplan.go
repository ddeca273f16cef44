package repo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// Read planning for LoadBlobs: blobs are read in pack and offset order,
// and blobs stored close together in one pack are read with one ranged
// read, instead of one read (an open, a seek and a read of the pack
// file) per blob.
// (Options.ReadGap is the largest gap between two blobs of a pack that is
// read over, and thrown away, to keep them in one read.)
const (
	// maxReadRun bounds one ranged read (and so the buffer it needs); a
	// single larger blob is read alone.
	maxReadRun = 8 << 20
)

// plannedBlob is a blob to load: the index of its first request and its
// location.
type plannedBlob struct {
	first int // index in the caller's list
	loc   index.Location
	id    id.ID
}

// LoadBlobs loads the blobs bids and calls fn(i, data, err) once for each
// i: data is the verified plaintext of bids[i], valid only during the
// call, or err says why it could not be loaded (wrapping ErrBlobNotFound
// or ErrDamaged, as LoadBlob's errors do). The calls come in the order the
// blobs are stored, not in the order of bids; a blob listed several times
// is read once and given to each of its calls in turn. LoadBlobs stops at
// the first error fn returns, and returns it, or ctx's error; it is safe
// for concurrent use, and calls fn on the calling goroutine.
func (r *Repo) LoadBlobs(ctx context.Context, bids []id.ID, fn func(i int, data []byte, err error) error) error {
	locs := make([]index.Location, len(bids))
	found := make([]bool, len(bids))
	if err := r.LookupMany(bids, locs, found); err != nil {
		return fmt.Errorf("load blobs: %w", err)
	}
	// One entry per distinct blob; repeats are served from its first
	// request.
	firsts := make(map[id.ID]int, len(bids))
	repeats := map[int][]int{}
	var plan []plannedBlob
	for i, b := range bids {
		if !found[i] {
			if err := fn(i, nil, fmt.Errorf("load blob %s: %w", b, ErrBlobNotFound)); err != nil {
				return err
			}
			continue
		}
		if f, ok := firsts[b]; ok {
			repeats[f] = append(repeats[f], i)
			continue
		}
		firsts[b] = i
		plan = append(plan, plannedBlob{first: i, loc: locs[i], id: b})
	}
	slices.SortFunc(plan, func(a, b plannedBlob) int {
		if c := a.loc.Pack.Compare(b.loc.Pack); c != 0 {
			return c
		}
		return cmp.Compare(a.loc.Offset, b.loc.Offset)
	})
	deliver := func(p plannedBlob, data []byte, err error) error {
		if err := fn(p.first, data, err); err != nil {
			return err
		}
		for _, i := range repeats[p.first] {
			if err := fn(i, data, err); err != nil {
				return err
			}
		}
		return nil
	}
	rbuf, pbuf := getBuf(), getBuf()
	plain := *pbuf
	defer func() {
		*pbuf = plain
		putBuf(rbuf)
		putBuf(pbuf)
	}()
	for start := 0; start < len(plan); {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := runEnd(plan, start, int64(r.opts.ReadGap))
		first, last := plan[start].loc, plan[end-1].loc
		from, to := int64(first.Offset), int64(last.Offset)+int64(last.Length)
		if cap(*rbuf) < int(to-from) {
			*rbuf = make([]byte, to-from)
		}
		run := (*rbuf)[:to-from]
		h := backend.Handle{Type: backend.PackFile, Name: first.Pack.String()}
		rerr := backend.ReadAt(ctx, r.be, h, from, run)
		if rerr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		for _, p := range plan[start:end] {
			var err error
			var data []byte
			off := int64(p.loc.Offset) - from
			sealed := run[off : off+int64(p.loc.Length)]
			perr := rerr
			if rerr != nil && end-start > 1 {
				// The read of the whole run failed (say, the pack is
				// shorter than the index says): read this blob alone, so
				// that every blob that is intact still loads, as with
				// LoadBlob.
				perr = backend.ReadAt(ctx, r.be, h, int64(p.loc.Offset), sealed)
				if perr != nil && ctx.Err() != nil {
					return ctx.Err()
				}
			}
			if perr != nil {
				err = readError(p.id, p.loc.Pack, perr)
			} else {
				data, err = r.openBlob(p.id, p.loc, sealed, plain)
				if err == nil {
					plain = data
				} else {
					err = fmt.Errorf("load %w", err)
				}
			}
			if err := deliver(p, data, err); err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}

// runEnd returns the end of the read that starts at plan[start]: the
// following blobs of the same pack with gaps of at most gap bytes, up to
// maxReadRun bytes in all (at least one blob).
func runEnd(plan []plannedBlob, start int, gap int64) int {
	first := plan[start].loc
	end := start + 1
	for end < len(plan) {
		prev, next := plan[end-1].loc, plan[end].loc
		prevEnd := int64(prev.Offset) + int64(prev.Length)
		if next.Pack != first.Pack || int64(next.Offset) > prevEnd+gap || int64(next.Offset) < prevEnd ||
			int64(next.Offset)+int64(next.Length)-int64(first.Offset) > maxReadRun {
			break
		}
		end++
	}
	return end
}

// readError turns a failed read of a pack into LoadBlob's errors.
func readError(bid, pack id.ID, err error) error {
	switch {
	case errors.Is(err, backend.ErrNotExist):
		return fmt.Errorf("load blob %s: pack %s is missing: %w", bid, pack, ErrDamaged)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("load blob %s: pack %s is shorter than the index says: %w", bid, pack, ErrDamaged)
	}
	return fmt.Errorf("load blob %s from pack %s: %w", bid, pack, err)
}
