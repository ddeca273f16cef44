package repo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// writer is the write side of a Repo: packers per blob type, the upload
// queue, and the blobs that are stored but not yet named by an index file.
type writer struct {
	mu          sync.Mutex
	cond        *sync.Cond // signalled when a pack finishes
	compression compress.Spec
	pending     id.Set                   // accepted blobs not yet in a written index file
	uploaded    map[id.ID]index.Location // blobs in uploaded packs not yet in a written index file
	unindexed   []format.IndexPack       // uploaded packs waiting for an index file
	lastIndex   time.Time
	seq         uint64              // sequence number of the last pack taken from the packer
	inflight    map[uint64]struct{} // packs taken and not yet uploaded and indexed (or failed)
	err         error               // sticky: once a pack is lost, every later Flush fails

	// gate is held shared by each SaveBlob from the moment it accepts a
	// blob (marks it pending) until the blob is in a pack, and exclusively
	// by Flush while it closes the open packs. So a blob another caller
	// was told is pending is always in a pack Flush sends.
	gate sync.RWMutex

	packMu [3]sync.Mutex // per blob type
	packs  [3]*packBuf

	startOnce sync.Once
	lifeMu    sync.Mutex // orders starting the uploaders against stop
	stopped   bool
	queue     chan *packBuf
	wg        sync.WaitGroup
	indexMu   sync.Mutex // one index file writer at a time
}

// packBuf is a pack being filled.
type packBuf struct {
	buf   []byte
	blobs []format.Blob
	seq   uint64
	typ   id.BlobType
}

// maxBlobSize bounds one blob; offsets in packs are uint32.
const maxBlobSize = 1 << 30

// maxPackBlobs keeps every sealed trailer within format.MaxTrailerLength
// (48 bytes is the largest encoding of one trailer entry).
const maxPackBlobs = (format.MaxTrailerLength - 64) / 48

func (w *writer) init(c compress.Spec) {
	w.compression = c
	w.pending = id.NewSet()
	w.uploaded = make(map[id.ID]index.Location)
	w.inflight = make(map[uint64]struct{})
	w.cond = sync.NewCond(&w.mu)
	w.lastIndex = time.Now()
}

func (w *writer) stickyErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// stop waits for the uploaders to exit; the repo context is already
// canceled.
func (w *writer) stop() {
	w.lifeMu.Lock()
	w.stopped = true
	w.lifeMu.Unlock()
	w.wg.Wait()
	w.mu.Lock()
	w.cond.Broadcast() // wake waitUploads goroutines; they see the canceled context
	w.mu.Unlock()
}

// SaveBlob stores a blob of type t unless the repository already has a blob
// with the same ID. It returns the blob's ID and whether it was stored now
// (false: deduplicated). It is safe for concurrent use; compression and
// encryption run on the calling goroutine. The blob is durable only after a
// later Flush returns without error.
func (r *Repo) SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error) {
	if !t.Valid() {
		return id.ID{}, false, fmt.Errorf("save blob: invalid type %d", t)
	}
	bid := r.key.BlobID(data)
	stored, err := r.saveBlob(ctx, t, bid, data)
	return bid, stored, err
}

func (r *Repo) saveBlob(ctx context.Context, t id.BlobType, bid id.ID, data []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := r.ctx.Err(); err != nil {
		return false, ErrClosed
	}
	if len(data) > maxBlobSize {
		return false, fmt.Errorf("save blob: %d bytes is larger than the limit of %d", len(data), maxBlobSize)
	}
	// Fast path: already in the cache (named by a durable index file).
	if ok, err := r.cache.Has(bid); err != nil {
		return false, fmt.Errorf("save blob %s: %w", bid.Short(), err)
	} else if ok {
		return false, nil
	}
	w := &r.w
	w.gate.RLock()
	defer w.gate.RUnlock()
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return false, err
	}
	if w.pending.Has(bid) {
		w.mu.Unlock()
		return false, nil
	}
	// Blobs leave pending only after they are in the cache, so this
	// second look (under the lock) cannot miss one in between.
	if ok, err := r.cache.Has(bid); err != nil || ok {
		w.mu.Unlock()
		if err != nil {
			return false, fmt.Errorf("save blob %s: %w", bid.Short(), err)
		}
		return false, nil
	}
	w.pending.Insert(bid)
	spec := w.compression
	w.mu.Unlock()

	// Compress into a scratch buffer and seal in place there (Seal moves
	// the plaintext up by its header): one scratch buffer per blob.
	cbuf := getBuf()
	if need := sealBound(len(data), r.key.Overhead()); cap(*cbuf) < need {
		// Exactly what the worst case needs: growing by appending
		// would double the buffer.
		*cbuf = make([]byte, 0, need)
	}
	comp := compress.Compress(*cbuf, data, spec)
	sealed := r.key.Seal(comp[:0], comp, bid[:])
	err := r.addToPack(t, bid, sealed, uint32(len(data)))
	*cbuf = sealed
	putBuf(cbuf)
	if err != nil {
		// The blob is in no pack; forget it so a later save can retry.
		// (If a pack holding it was lost, the sticky error already fails
		// every later Flush.)
		w.mu.Lock()
		w.pending.Delete(bid)
		w.mu.Unlock()
		return false, err
	}
	return true, nil
}

// addToPack appends a sealed blob to the open pack of its type. A pack
// that is full is sent to the uploaders while packMu[t] is still held, so
// the savers of that type wait for an uploader instead of each starting a
// pack of its own: at most one pack per type is being filled or waiting,
// plus one per uploader, which bounds the writer's memory.
func (r *Repo) addToPack(t id.BlobType, bid id.ID, sealed []byte, rawLen uint32) error {
	w := &r.w
	w.packMu[t].Lock()
	defer w.packMu[t].Unlock()
	p := w.packs[t]
	if p != nil && len(p.blobs) > 0 && len(p.buf)+len(sealed) > cap(p.buf) && cap(p.buf) >= int(r.cfg.PackSize) {
		// The blob would make the buffer grow (a copy of the whole
		// pack): close the pack without it.
		w.packs[t] = nil
		w.take(p)
		if err := r.sendPack(p); err != nil {
			return err
		}
		p = nil
	}
	if p == nil {
		p = newPackBuf(t, int(r.cfg.PackSize))
		w.packs[t] = p
	}
	if need := len(p.buf) + len(sealed); need > cap(p.buf) {
		// A pack that started small (tree blobs) grows by doubling, but
		// not past the size it will be sent at.
		full := int(r.cfg.PackSize) + int(r.cfg.PackSize)/8
		nb := make([]byte, len(p.buf), max(need, min(2*cap(p.buf), full)))
		copy(nb, p.buf)
		p.buf = nb
	}
	p.blobs = append(p.blobs, format.Blob{Type: t, ID: bid, Offset: uint32(len(p.buf)), Length: uint32(len(sealed)), RawLength: rawLen})
	p.buf = append(p.buf, sealed...)
	if len(p.buf) >= int(r.cfg.PackSize) || len(p.blobs) >= maxPackBlobs {
		w.packs[t] = nil
		w.take(p)
		return r.sendPack(p)
	}
	return nil
}

// take numbers a pack leaving the packer and counts it as in flight. It
// must be called at the moment the pack leaves w.packs, so a concurrent
// Flush never sees a taken pack as neither open nor in flight.
func (w *writer) take(p *packBuf) {
	w.mu.Lock()
	w.seq++
	p.seq = w.seq
	w.inflight[p.seq] = struct{}{}
	w.mu.Unlock()
}

// sendPack seals the pack's trailer and queues it for upload; the pack was
// already taken. The pack belongs to the repository, not to the caller
// whose blob filled it, so only closing the repository stops the queueing:
// if that happens the pack's blobs are lost and the writer's error becomes
// sticky.
func (r *Repo) sendPack(p *packBuf) error {
	trailer := format.EncodeTrailer(p.blobs)
	n := len(p.buf)
	p.buf = r.key.Seal(p.buf, trailer, adTrailer)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(p.buf)-n))

	w := &r.w
	w.startOnce.Do(func() { r.startUploaders() })
	select {
	case w.queue <- p:
		return nil
	case <-r.ctx.Done():
		r.packDone(p.seq, ErrClosed)
		return ErrClosed
	}
}

// packDone ends the flight of the pack numbered seq; a non-nil err becomes
// the sticky error. It takes the number, not the pack: an uploaded pack's
// buffer is already back in the free list, and may be numbered anew.
func (r *Repo) packDone(seq uint64, err error) {
	w := &r.w
	w.mu.Lock()
	if err != nil && w.err == nil {
		w.err = err
	}
	delete(w.inflight, seq)
	w.cond.Broadcast()
	w.mu.Unlock()
}

func (r *Repo) startUploaders() {
	w := &r.w
	w.queue = make(chan *packBuf)
	w.lifeMu.Lock()
	defer w.lifeMu.Unlock()
	if w.stopped {
		return // sendPack then waits for r.ctx, which Close canceled
	}
	for i := 0; i < r.opts.Uploaders; i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for {
				select {
				case p := <-w.queue:
					// uploadPack frees p: keep its number.
					seq := p.seq
					r.packDone(seq, r.uploadPack(p))
				case <-r.ctx.Done():
					return
				}
			}
		}()
	}
}

// uploadPack stores one pack, records its blobs as uploaded, and writes an
// index file when enough packs or time have accumulated. It gives p's
// buffer back to the free list: p must not be used after it returns.
func (r *Repo) uploadPack(p *packBuf) error {
	packID := id.Hash(p.buf)
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	err := r.be.Save(r.ctx, h, p.buf)
	if err != nil && !errors.Is(err, backend.ErrExist) {
		return fmt.Errorf("save pack %s: %w", packID.Short(), err)
	}
	blobs := append([]format.Blob(nil), p.blobs...)
	freePackBuf(p)

	w := &r.w
	w.mu.Lock()
	for _, b := range blobs {
		w.uploaded[b.ID] = index.Location{Pack: packID, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
	}
	w.unindexed = append(w.unindexed, format.IndexPack{ID: packID, Blobs: blobs})
	due := len(w.unindexed) >= r.opts.IndexMaxPacks || len(w.uploaded) >= r.opts.IndexMaxBlobs ||
		time.Since(w.lastIndex) >= r.opts.IndexInterval
	w.mu.Unlock()
	if due {
		return r.writeIndex(r.ctx)
	}
	return nil
}

// writeIndex writes one index file naming every uploaded pack that no index
// file names yet, then moves those blobs into the cache.
func (r *Repo) writeIndex(ctx context.Context) error {
	w := &r.w
	w.indexMu.Lock()
	defer w.indexMu.Unlock()
	w.mu.Lock()
	packs := w.unindexed
	w.unindexed = nil
	w.lastIndex = time.Now()
	w.mu.Unlock()
	if len(packs) == 0 {
		return nil
	}
	fileID, err := r.saveIndexFile(ctx, &format.Index{Packs: packs})
	if err == nil {
		err = r.cache.AddIndexFile(fileID, entriesOf(packs))
	}
	if err != nil {
		w.mu.Lock()
		w.unindexed = append(packs, w.unindexed...)
		w.mu.Unlock()
		return fmt.Errorf("write index file: %w", err)
	}
	w.mu.Lock()
	for _, p := range packs {
		for _, b := range p.Blobs {
			delete(w.uploaded, b.ID)
			w.pending.Delete(b.ID)
		}
	}
	w.mu.Unlock()
	return nil
}

func (r *Repo) saveIndexFile(ctx context.Context, ix *format.Index) (id.ID, error) {
	data := r.key.Seal(nil, format.EncodeIndex(ix), adIndex)
	fileID := id.Hash(data)
	err := r.be.Save(ctx, backend.Handle{Type: backend.IndexFile, Name: fileID.String()}, data)
	if err != nil && !errors.Is(err, backend.ErrExist) {
		return fileID, err
	}
	return fileID, nil
}

func entriesOf(packs []format.IndexPack) map[id.ID][]index.Entry {
	out := make(map[id.ID][]index.Entry, len(packs))
	for _, p := range packs {
		es := make([]index.Entry, len(p.Blobs))
		for i, b := range p.Blobs {
			es[i] = index.Entry{ID: b.ID, Location: index.Location{Pack: p.ID, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}}
		}
		out[p.ID] = es
	}
	return out
}

// Flush stores every blob saved so far: it closes the packs being filled,
// waits for all uploads, and writes an index file naming them. When Flush
// returns nil, those blobs survive any crash. If any pack of this Repo was
// lost (an upload failed or was canceled), Flush returns that error, now
// and every later time: reopen the repository and save again.
func (r *Repo) Flush(ctx context.Context) error {
	if err := r.checkLock(); err != nil {
		return err
	}
	w := &r.w
	// Wait for saves that have accepted a blob to put it in a pack, then
	// take the open packs.
	w.gate.Lock()
	var open []*packBuf
	for t := range w.packs {
		w.packMu[t].Lock()
		if p := w.packs[t]; p != nil && len(p.blobs) > 0 {
			open = append(open, p)
		}
		w.packs[t] = nil
		w.packMu[t].Unlock()
	}
	for _, p := range open {
		w.take(p)
	}
	w.mu.Lock()
	upTo := w.seq // every pack taken so far, by us or by full packers
	w.mu.Unlock()
	w.gate.Unlock()
	for i, p := range open {
		if err := r.sendPack(p); err != nil {
			for _, q := range open[i+1:] {
				r.packDone(q.seq, err)
			}
			return err
		}
	}
	if err := r.waitUploads(ctx, upTo); err != nil {
		return err
	}
	if err := w.stickyErr(); err != nil {
		return err
	}
	return r.writeIndex(ctx)
}

// waitUploads waits until no pack numbered upTo or lower is in flight, or
// ctx ends. Packs taken later (by other goroutines still saving) do not
// delay it, so Flush cannot be starved.
func (r *Repo) waitUploads(ctx context.Context, upTo uint64) error {
	w := &r.w
	done := make(chan struct{})
	busy := func() bool {
		for s := range w.inflight {
			if s <= upTo {
				return true
			}
		}
		return false
	}
	go func() {
		w.mu.Lock()
		for busy() && r.ctx.Err() == nil {
			w.cond.Wait()
		}
		w.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		if r.ctx.Err() != nil {
			return ErrClosed
		}
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
		return ctx.Err()
	}
}
