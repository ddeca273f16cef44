package format

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gobak/gobak/pkg/id"
)

// Blob describes one sealed blob inside a pack.
type Blob struct {
	Type      id.BlobType
	ID        id.ID
	Offset    uint32 // byte offset of the sealed blob within the pack
	Length    uint32 // sealed length
	RawLength uint32 // plaintext length before compression
}

// minBlobEncoding is the smallest possible encoding of a Blob: type byte,
// 32-byte ID and three one-byte uvarints.
const minBlobEncoding = 1 + id.Size + 3

func appendBlob(dst []byte, b Blob) []byte {
	dst = append(dst, byte(b.Type))
	dst = append(dst, b.ID[:]...)
	dst = binary.AppendUvarint(dst, uint64(b.Offset))
	dst = binary.AppendUvarint(dst, uint64(b.Length))
	dst = binary.AppendUvarint(dst, uint64(b.RawLength))
	return dst
}

// reader is a bounds-checked cursor over a byte slice. The first error
// sticks; later reads return zero values.
type reader struct {
	buf []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.buf) < 1 {
		r.fail("truncated at %s", what)
		return 0
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

func (r *reader) id(what string) id.ID {
	var out id.ID
	if r.err != nil {
		return out
	}
	if len(r.buf) < id.Size {
		r.fail("truncated at %s", what)
		return out
	}
	copy(out[:], r.buf)
	r.buf = r.buf[id.Size:]
	return out
}

func (r *reader) uvarint(what string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("bad varint at %s", what)
		return 0
	}
	if v > max {
		r.fail("%s %d exceeds %d", what, v, max)
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// count reads an element count and checks that the rest of the buffer can
// hold that many elements of at least minSize bytes, so a hostile count can
// never cause a huge allocation.
func (r *reader) count(what string, minSize int) int {
	v := r.uvarint(what, math.MaxInt32)
	if r.err != nil {
		return 0
	}
	if v > uint64(len(r.buf)/minSize) {
		r.fail("%s %d does not fit in %d remaining bytes", what, v, len(r.buf))
		return 0
	}
	return int(v)
}

func (r *reader) blob() Blob {
	var b Blob
	b.Type = id.BlobType(r.byte("blob type"))
	if r.err == nil && !b.Type.Valid() {
		r.fail("unknown blob type %d", b.Type)
	}
	b.ID = r.id("blob id")
	b.Offset = uint32(r.uvarint("blob offset", math.MaxUint32))
	b.Length = uint32(r.uvarint("blob length", math.MaxUint32))
	b.RawLength = uint32(r.uvarint("blob raw length", math.MaxUint32))
	return b
}

func (r *reader) end(what string) {
	if r.err == nil && len(r.buf) != 0 {
		r.fail("%d trailing bytes after %s", len(r.buf), what)
	}
}
