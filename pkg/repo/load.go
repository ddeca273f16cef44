package repo

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// Lookup returns where a blob is stored: in an uploaded pack of this
// session, or in the index cache.
func (r *Repo) Lookup(bid id.ID) (index.Location, bool, error) {
	r.w.mu.Lock()
	loc, ok := r.w.uploaded[bid]
	r.w.mu.Unlock()
	if ok {
		return loc, true, nil
	}
	return r.cache.Lookup(bid)
}

// HasBlob reports whether the repository has the blob, or this session has
// accepted it for saving.
func (r *Repo) HasBlob(bid id.ID) (bool, error) {
	r.w.mu.Lock()
	ok := r.w.pending.Has(bid)
	r.w.mu.Unlock()
	if ok {
		return true, nil
	}
	return r.cache.Has(bid)
}

// LoadBlob reads a blob, appending its plaintext to dst[:0]. Blobs still in
// a pack that is being filled cannot be loaded until that pack is uploaded
// (Flush). Every blob is authenticated and its ID recomputed: damage gives
// an error wrapping ErrDamaged that names the blob and the pack.
func (r *Repo) LoadBlob(ctx context.Context, bid id.ID, dst []byte) ([]byte, error) {
	loc, ok, err := r.Lookup(bid)
	if err != nil {
		return nil, fmt.Errorf("load blob %s: %w", bid, err)
	}
	if !ok {
		return nil, fmt.Errorf("load blob %s: %w", bid, ErrBlobNotFound)
	}
	sbuf := getBuf()
	defer putBuf(sbuf)
	if cap(*sbuf) < int(loc.Length) {
		*sbuf = make([]byte, loc.Length)
	}
	sealed := (*sbuf)[:loc.Length]
	h := backend.Handle{Type: backend.PackFile, Name: loc.Pack.String()}
	if err := backend.ReadAt(ctx, r.be, h, int64(loc.Offset), sealed); err != nil {
		return nil, readError(bid, loc.Pack, err)
	}
	return r.openBlob(bid, loc, sealed, dst)
}

// openBlob authenticates, decompresses and ID-checks one sealed blob.
func (r *Repo) openBlob(bid id.ID, loc index.Location, sealed, dst []byte) ([]byte, error) {
	cbuf := getBuf()
	defer putBuf(cbuf)
	comp, err := r.key.Open((*cbuf)[:0], sealed, bid[:])
	if err != nil {
		return nil, fmt.Errorf("blob %s in pack %s: %w: %v", bid, loc.Pack, ErrDamaged, err)
	}
	*cbuf = comp
	plain, err := compress.Decompress(dst[:0], comp, int(loc.RawLength))
	if err != nil {
		return nil, fmt.Errorf("blob %s in pack %s: %w: %v", bid, loc.Pack, ErrDamaged, err)
	}
	if len(plain) != int(loc.RawLength) {
		return nil, fmt.Errorf("blob %s in pack %s: %w: length %d, index says %d", bid, loc.Pack, ErrDamaged, len(plain), loc.RawLength)
	}
	if got := r.key.BlobID(plain); got != bid {
		return nil, fmt.Errorf("blob %s in pack %s: %w: content hashes to %s", bid, loc.Pack, ErrDamaged, got)
	}
	return plain, nil
}

// tailRead is how much of a pack's end is read at once to find its trailer.
const tailRead = 64 << 10

// PackBlobs reads and authenticates the trailer of a pack and returns the
// blobs it lists. Damage (short file, bad length, failed authentication,
// blobs that do not fill the pack exactly) gives an error wrapping
// ErrDamaged.
func (r *Repo) PackBlobs(ctx context.Context, pack id.ID) ([]index.Entry, int64, error) {
	h := backend.Handle{Type: backend.PackFile, Name: pack.String()}
	fi, err := r.be.Stat(ctx, h)
	if err != nil {
		return nil, 0, fmt.Errorf("pack %s: %w", pack, err)
	}
	size := fi.Size
	if size < int64(format.TrailerLengthSize+r.key.Overhead()) {
		return nil, size, fmt.Errorf("pack %s: %w: only %d bytes", pack, ErrDamaged, size)
	}
	tailLen := min(size, tailRead)
	tail := make([]byte, tailLen)
	if err := backend.ReadAt(ctx, r.be, h, size-tailLen, tail); err != nil {
		return nil, size, fmt.Errorf("pack %s: read trailer: %w", pack, err)
	}
	tlen := int64(binary.LittleEndian.Uint32(tail[tailLen-format.TrailerLengthSize:]))
	if tlen > format.MaxTrailerLength || tlen > size-format.TrailerLengthSize {
		return nil, size, fmt.Errorf("pack %s: %w: trailer length %d in a %d-byte pack", pack, ErrDamaged, tlen, size)
	}
	start := size - format.TrailerLengthSize - tlen
	var sealed []byte
	if tlen+format.TrailerLengthSize <= tailLen {
		sealed = tail[tailLen-format.TrailerLengthSize-tlen : tailLen-format.TrailerLengthSize]
	} else {
		sealed = make([]byte, tlen)
		if err := backend.ReadAt(ctx, r.be, h, start, sealed); err != nil {
			return nil, size, fmt.Errorf("pack %s: read trailer: %w", pack, err)
		}
	}
	plain, err := r.key.Open(nil, sealed, adTrailer)
	if err != nil {
		return nil, size, fmt.Errorf("pack %s: trailer: %w: %v", pack, ErrDamaged, err)
	}
	blobs, end, err := format.DecodeTrailer(plain)
	if err != nil {
		return nil, size, fmt.Errorf("pack %s: trailer: %w: %v", pack, ErrDamaged, err)
	}
	if int64(end) != start {
		return nil, size, fmt.Errorf("pack %s: %w: trailer lists %d bytes of blobs, pack has %d", pack, ErrDamaged, end, start)
	}
	out := make([]index.Entry, len(blobs))
	for i, b := range blobs {
		out[i] = index.Entry{ID: b.ID, Location: index.Location{Pack: pack, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}}
	}
	return out, size, nil
}
