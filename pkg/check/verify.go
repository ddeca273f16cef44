package check

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

// buffers are a worker's scratch space for reading a pack and opening its
// blobs.
type buffers struct {
	pack, comp, plain []byte
}

// maxPackRead bounds the packs read into memory: the largest pack size a
// repository may be configured with, plus room for its trailer.
const maxPackRead = repo.MaxPackSize + 8<<20

var bufPool = sync.Pool{New: func() any { return new(buffers) }}

// verifyPack reads pack p (size bytes as listed) once, checks its name
// against the BLAKE3 of its bytes, and verifies every blob the trailer
// (nil if unreadable) or the index lists. Damaged indexed blobs are
// recorded for the archive mapping; damage to blobs no index names is
// reported directly.
func (c *checker) verifyPack(p id.ID, size int64, trailer []index.Entry, indexed map[id.ID]index.Location) error {
	if size > maxPackRead {
		c.emit(Problem{Kind: KindPackHash, Pack: p, Message: fmt.Sprintf("%d bytes is larger than any pack; not read", size)})
		return nil
	}
	bufs := bufPool.Get().(*buffers)
	defer bufPool.Put(bufs)
	data, err := c.readPack(p, size, bufs)
	if err != nil {
		if c.ctx.Err() != nil {
			return c.ctxErr()
		}
		if errors.Is(err, backend.ErrNotExist) {
			return nil
		}
		c.emit(Problem{Kind: KindPackTrailer, Pack: p, Message: fmt.Sprintf("pack cannot be read: %v", err)})
		return nil
	}
	orphan := indexed == nil
	sev := Damage
	if orphan {
		sev = Warning
	}
	if got := id.Hash(data); got != p {
		msg := fmt.Sprintf("the pack's content hashes to %s, not to its name: it was changed or damaged", got.Short())
		if int64(len(data)) != size {
			msg = fmt.Sprintf("read %d bytes of a %d-byte pack; %s", len(data), size, msg)
		}
		c.emit(Problem{Severity: sev, Kind: KindPackHash, Pack: p, Message: msg})
	}

	// The blobs to verify: the trailer's, and the index's where it
	// disagrees with the trailer.
	todo := make([]index.Entry, 0, len(trailer)+len(indexed))
	seen := make(map[index.Entry]bool, len(trailer))
	for _, e := range trailer {
		todo = append(todo, e)
		seen[e] = true
	}
	for _, b := range sortedKeys(indexed) {
		e := index.Entry{ID: b, Location: indexed[b]}
		if !seen[e] {
			todo = append(todo, e)
		}
	}
	verified := 0
	for _, e := range todo {
		if err := c.ctxErr(); err != nil {
			return err
		}
		var verr error
		end := uint64(e.Offset) + uint64(e.Length)
		switch {
		case end > uint64(len(data)):
			verr = fmt.Errorf("blob at %d+%d lies beyond the end of the %d-byte pack", e.Offset, e.Length, len(data))
		case c.perBlobLoad:
			bufs.plain, verr = c.r.LoadBlob(c.ctx, e.ID, bufs.plain)
		default:
			verr = c.openBlob(bufs, data[e.Offset:end], e.ID, e.RawLength)
		}
		if verr == nil {
			verified++
			continue
		}
		if loc, ok := indexed[e.ID]; ok && loc == e.Location {
			c.markBad(e.ID, blobIssue{kind: KindBlobDamaged, pack: p, typ: e.Type, msg: verr.Error()})
			continue
		}
		c.emit(Problem{Severity: sev, Kind: KindBlobDamaged, Pack: p, Blob: e.ID,
			Message: fmt.Sprintf("%s blob no index file names: %v", e.Type, verr)})
	}
	c.mu.Lock()
	c.sum.PacksRead++
	c.sum.BytesRead += int64(len(data))
	c.sum.BlobsVerified += verified
	c.mu.Unlock()
	return nil
}

// readPack reads the whole pack in one sequential read. A pack shorter than
// listed is returned as read.
func (c *checker) readPack(p id.ID, size int64, bufs *buffers) ([]byte, error) {
	if int64(cap(bufs.pack)) < size {
		bufs.pack = make([]byte, size)
	}
	buf := bufs.pack[:size]
	rc, err := c.be.Load(c.ctx, backend.Handle{Type: backend.PackFile, Name: p.String()}, 0, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// openBlob authenticates a sealed blob (with its ID as associated data),
// decompresses it and recomputes its ID, as repo.LoadBlob does, but from
// bytes already read.
func (c *checker) openBlob(bufs *buffers, sealed []byte, b id.ID, raw uint32) error {
	comp, err := c.key.Open(bufs.comp[:0], sealed, b[:])
	if err != nil {
		return fmt.Errorf("authentication failed: %w", err)
	}
	bufs.comp = comp
	plain, err := compress.Decompress(bufs.plain[:0], comp, int(raw))
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	bufs.plain = plain
	if len(plain) != int(raw) {
		return fmt.Errorf("plaintext of %d bytes, the index says %d", len(plain), raw)
	}
	if got := c.key.BlobID(plain); got != b {
		return fmt.Errorf("content hashes to %s", got.Short())
	}
	return nil
}
