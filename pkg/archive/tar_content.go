package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"sync"

	"github.com/gobak/gobak/pkg/id"
)

// The export pipeline. The walking goroutine groups headers and pieces of
// file content into batches of at most about tarBatchBytes of blob
// data (and batchSegs items), and queues each batch twice: on order, read
// by the writer, and, when it has data, on work, read by the loaders. A
// loader fills the batch's buffer and closes done; the writer waits for
// done and writes the batch's items in order. order's capacity bounds the
// batches in flight, hence the memory, whatever the files' sizes.

// tarBatchBytes is the blob data a batch aims at: large enough for a
// store's batched loads to read packs in long runs, small enough that the
// batches in flight (about Workers+3) stay a few tens of megabytes.
const tarBatchBytes = 4 << 20

// tItem is an entry's header, or a piece of a regular file's content.
type tItem struct {
	path    []byte      // archive path
	hdr     *tar.Header // nil for a content piece
	node    *Node
	counter *uint64 // with hdr: the statistic the entry counts in
	file    *tFile  // the regular file the header or piece belongs to
	ext     []Extent
	off     uint64 // the piece's offset in the file
	last    bool   // the file's last piece

	// Set by the loader before the batch is done.
	data    [][]byte // per extent: its content; nil means zeros
	loadErr error    // first extent that could not be loaded
}

// tFile is the state of a regular file, used by the writer only (extErr
// is set by the walker before the file's items are queued).
type tFile struct {
	extErr  error // its extent list could not be read: written as zeros
	loadErr error // first piece that could not be loaded
	skip    bool  // its header could not be written: its content is dropped
}

// tBatch is a run of consecutive items.
type tBatch struct {
	items []*tItem
	bytes uint64 // blob data to load
	buf   *[]byte
	done  chan struct{}
}

// tQueue builds batches and queues them.
type tQueue struct {
	ctx         context.Context
	order, work chan *tBatch
	cur         *tBatch
}

// pending is the blob data of the batch being built.
func (q *tQueue) pending() uint64 {
	if q.cur == nil {
		return 0
	}
	return q.cur.bytes
}

// add appends an item with size bytes of blob data to the batch being
// built, queueing the batch when it is full.
func (q *tQueue) add(it *tItem, size uint64) error {
	if q.cur == nil {
		q.cur = &tBatch{done: make(chan struct{})}
	}
	q.cur.items = append(q.cur.items, it)
	q.cur.bytes += size
	if q.cur.bytes >= tarBatchBytes || len(q.cur.items) >= batchSegs {
		return q.flush()
	}
	return nil
}

// flush queues the batch being built.
func (q *tQueue) flush() error {
	b := q.cur
	if b == nil {
		return nil
	}
	q.cur = nil
	select {
	case q.order <- b:
	case <-q.ctx.Done():
		return q.ctx.Err()
	}
	if b.bytes == 0 {
		close(b.done)
		return nil
	}
	select {
	case q.work <- b: // work has order's capacity: waits for a loader at most
	case <-q.ctx.Done():
		return q.ctx.Err()
	}
	return nil
}

// queueFile queues a regular file's header and its content in pieces that
// fit the batches.
func (t *tarExporter) queueFile(ctx context.Context, q *tQueue, it *tItem) error {
	n := it.node
	f := &tFile{}
	it.file = f
	ex, err := Extents(ctx, t.cs, n)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		var total uint64
		for _, e := range ex {
			total += e.Size
		}
		if total != n.Size {
			err = fmt.Errorf("%w: extents add up to %d, size is %d", ErrMalformed, total, n.Size)
		}
	}
	if err != nil {
		f.extErr = err
		ex = []Extent{HoleExtent(n.Size)}
	}
	if err := q.add(it, 0); err != nil {
		return err
	}
	start, off, pieceOff := 0, uint64(0), uint64(0)
	var size uint64 // blob data of the piece ex[start:i]
	for i, e := range ex {
		if !e.IsHole() {
			if i > start && q.pending()+size+e.Size > tarBatchBytes {
				if err := q.add(&tItem{path: it.path, node: n, file: f, ext: ex[start:i], off: pieceOff}, size); err != nil {
					return err
				}
				start, pieceOff, size = i, off, 0
			}
			size += e.Size
		}
		off += e.Size
	}
	return q.add(&tItem{path: it.path, node: n, file: f, ext: ex[start:], off: pieceOff, last: true}, size)
}

// tBufs recycles batch buffers.
var tBufs sync.Pool

// getBuf returns a buffer of n bytes.
func getBuf(n uint64) *[]byte {
	if p, ok := tBufs.Get().(*[]byte); ok && uint64(cap(*p)) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n)
	return &b
}

// tTarget is where a blob's content goes: extent k of a piece, at pos in
// the batch's buffer once loaded.
type tTarget struct {
	it       *tItem
	k        int
	pos, off uint64 // off: offset in the file, for messages
	size     uint64
}

// load loads a batch's blobs into its buffer, recording failures in its
// items (whose extents then stay nil: zeros).
//
// The buffer grows with the blobs actually loaded, never with the sizes
// the extents claim: a crafted extent claiming 1 TiB for a small blob
// must not become a 1 TiB allocation. An extent whose blob has another
// length is damage (zeros and a warning), as in Extract.
func (t *tarExporter) load(ctx context.Context, b *tBatch) {
	var ids []id.ID
	var targets []tTarget
	var claimed uint64
	for _, it := range b.items {
		if it.hdr != nil {
			continue
		}
		it.data = make([][]byte, len(it.ext))
		off := it.off
		for k, e := range it.ext {
			if !e.IsHole() {
				ids = append(ids, e.BlobID())
				targets = append(targets, tTarget{it: it, k: k, off: off, size: e.Size})
				claimed += e.Size
			}
			off += e.Size
		}
	}
	if len(ids) == 0 {
		return
	}
	// Capacity hint only, bounded whatever the extents claim; append
	// grows the buffer with real blob lengths beyond it.
	b.buf = getBuf(min(claimed, 2*tarBatchBytes))
	buf := (*b.buf)[:0]
	loaded := make([]bool, len(ids)) // tg.pos is valid: the blob is in buf
	delivered := make([]bool, len(ids))
	fill := func(i int, data []byte, err error) {
		tg := &targets[i]
		delivered[i] = true
		switch {
		case err != nil:
			tg.it.fail(fmt.Errorf("data at offset %d: %w", tg.off, err))
		case uint64(len(data)) != tg.size:
			tg.it.fail(fmt.Errorf("data at offset %d: %w: blob %s has %d bytes, extent says %d", tg.off, ErrMalformed, ids[i].Short(), len(data), tg.size))
		default:
			tg.pos = uint64(len(buf))
			buf = append(buf, data...) // data may already sit there (LoadBlob's dst)
			loaded[i] = true
		}
	}
	if bl, ok := t.cs.(batchLoader); ok {
		err := bl.LoadBlobs(ctx, ids, func(i int, data []byte, err error) error {
			fill(i, data, err)
			return ctx.Err()
		})
		if err != nil && ctx.Err() == nil {
			// The store failed as a whole (its index, say).
			for i := range ids {
				if !delivered[i] {
					fill(i, nil, err)
				}
			}
		}
	} else {
		for i, bid := range ids {
			if ctx.Err() != nil {
				break
			}
			data, err := t.cs.LoadBlob(ctx, bid, buf[len(buf):])
			fill(i, data, err)
		}
	}
	// Point the extents at their data only now: append may have moved buf.
	for i, tg := range targets {
		if loaded[i] {
			tg.it.data[tg.k] = buf[tg.pos : tg.pos+tg.size]
		}
	}
	*b.buf = buf
}

// fail records the first load error of a piece.
func (it *tItem) fail(err error) {
	if it.loadErr == nil {
		it.loadErr = err
	}
}

// write writes the batches in order as they are loaded.
func (t *tarExporter) write(ctx context.Context, order <-chan *tBatch) error {
	for b := range order {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, it := range b.items {
			if err := t.writeItem(ctx, it); err != nil {
				return err
			}
		}
		if b.buf != nil {
			tBufs.Put(b.buf)
		}
	}
	return nil
}

// writeItem writes a header or a piece of content.
func (t *tarExporter) writeItem(ctx context.Context, it *tItem) error {
	if it.hdr != nil {
		if t.o.List != nil {
			t.mu.Lock()
			t.o.List(it.path)
			t.mu.Unlock()
		}
		if err := t.tw.WriteHeader(it.hdr); err != nil {
			if t.out.err != nil {
				return err
			}
			// A header tar cannot encode (a NUL in a crafted user name,
			// say): nothing was written, the stream goes on.
			t.warn(it.path, fmt.Errorf("%w: %w", ErrMalformed, err), &t.stats.Failed)
			if it.file != nil {
				it.file.skip = true
			}
			return nil
		}
		if it.file == nil {
			t.count(it.counter, 1)
		}
		return nil
	}
	f := it.file
	if f.skip {
		return nil
	}
	if it.loadErr != nil && f.loadErr == nil {
		f.loadErr = it.loadErr
	}
	for k, e := range it.ext {
		if it.data != nil && it.data[k] != nil {
			if _, err := t.tw.Write(it.data[k]); err != nil {
				return err
			}
			continue
		}
		for n := e.Size; n > 0; {
			if err := ctx.Err(); err != nil { // a huge hole must not outlive Ctrl-C
				return err
			}
			k := min(n, zeroChunk)
			if _, err := t.tw.Write(zeros[:k]); err != nil {
				return err
			}
			n -= k
		}
	}
	if it.last {
		t.finishFile(it.path, it.node, f)
	}
	return nil
}

// finishFile counts a file whose content is written and reports its
// problems.
func (t *tarExporter) finishFile(p []byte, n *Node, f *tFile) {
	loadErr := f.extErr
	if loadErr == nil {
		loadErr = f.loadErr
	}
	switch {
	case loadErr != nil && len(n.Damaged) > 0:
		t.warn(p, fmt.Errorf("%w; %w: %s", loadErr, ErrDamagedData, DamagedRanges(n.Damaged)), &t.stats.Damaged)
	case loadErr != nil:
		t.warn(p, fmt.Errorf("written with zeros for what could not be loaded: %w", loadErr), &t.stats.Damaged)
	case len(n.Damaged) > 0:
		t.warn(p, fmt.Errorf("%w: %s", ErrDamagedData, DamagedRanges(n.Damaged)), &t.stats.Damaged)
	}
	t.mu.Lock()
	t.stats.Files++
	t.stats.Bytes += n.Size
	t.mu.Unlock()
}
