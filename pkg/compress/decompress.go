package compress

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Decompress decodes src, a codec byte followed by its payload as written by
// [Compress], appends the plaintext to dst and returns the extended slice.
//
// src is untrusted. The plaintext may be at most maxSize bytes (a negative
// maxSize counts as 0); the declared size is checked before any output
// buffer is allocated, so a small input cannot make Decompress allocate more
// than maxSize bytes. An empty src, an unknown codec byte, a malformed or
// truncated payload, or a plaintext longer than maxSize returns an error
// wrapping [ErrCorrupt]; on error the contents of dst beyond its original
// length are undefined. Decompress never panics.
//
// Decompress is safe for concurrent use. dst and src must not overlap.
func Decompress(dst, src []byte, maxSize int) ([]byte, error) {
	if len(src) == 0 {
		return dst, fmt.Errorf("%w: empty input, no codec byte", ErrCorrupt)
	}
	maxSize = max(maxSize, 0)
	codec, payload := Codec(src[0]), src[1:]
	var (
		out []byte
		err error
	)
	switch codec {
	case None:
		if len(payload) > maxSize {
			return dst, tooLarge(codec, uint64(len(payload)), maxSize)
		}
		return append(dst, payload...), nil
	case LZ4:
		out, err = decodeLZ4(dst, payload, maxSize)
	case S2:
		out, err = decodeS2(dst, payload, maxSize)
	case Zstd:
		out, err = decodeZstd(dst, payload, maxSize)
	default:
		return dst, fmt.Errorf("%w: unknown codec byte %d", ErrCorrupt, src[0])
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

func tooLarge(c Codec, n uint64, maxSize int) error {
	return fmt.Errorf("%w: %s: plaintext size %d exceeds limit %d", ErrCorrupt, c, n, maxSize)
}

func corrupt(c Codec, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, c, err)
}

// grow returns dst extended by n bytes, reusing its capacity if possible.
func grow(dst []byte, n int) []byte {
	return slices.Grow(dst, n)[:len(dst)+n]
}

// decodeLZ4 decodes uvarint(raw length) || LZ4 block.
func decodeLZ4(dst, payload []byte, maxSize int) ([]byte, error) {
	size, h := binary.Uvarint(payload)
	if h <= 0 {
		return nil, fmt.Errorf("%w: lz4: bad length header", ErrCorrupt)
	}
	if size > uint64(maxSize) {
		return nil, tooLarge(LZ4, size, maxSize)
	}
	if size == 0 {
		// Compress never emits an empty LZ4 payload, and lz4's assembly
		// decoder dereferences a nil destination (found by FuzzDecompress).
		return nil, fmt.Errorf("%w: lz4: zero length block", ErrCorrupt)
	}
	start, n := len(dst), int(size)
	dst = grow(dst, n)
	got, err := lz4.UncompressBlock(payload[h:], dst[start:])
	if err != nil {
		return nil, corrupt(LZ4, err)
	}
	if got != n {
		return nil, fmt.Errorf("%w: lz4: block decodes to %d bytes, header says %d", ErrCorrupt, got, n)
	}
	return dst, nil
}

// decodeS2 decodes an S2 block.
func decodeS2(dst, payload []byte, maxSize int) ([]byte, error) {
	size, err := s2.DecodedLen(payload)
	if err != nil {
		return nil, corrupt(S2, err)
	}
	if size > maxSize {
		return nil, tooLarge(S2, uint64(size), maxSize)
	}
	start := len(dst)
	dst = grow(dst, size)
	room := dst[start:]
	out, err := s2.Decode(room, payload)
	if err != nil {
		return nil, corrupt(S2, err)
	}
	if len(out) != size {
		return nil, fmt.Errorf("%w: s2: decoded %d bytes, header says %d", ErrCorrupt, len(out), size)
	}
	if size > 0 && &out[0] != &room[0] {
		copy(room, out)
	}
	return dst, nil
}

// decodeZstd decodes a single zstd frame that declares its content size.
func decodeZstd(dst, payload []byte, maxSize int) ([]byte, error) {
	var hdr zstd.Header
	if err := hdr.Decode(payload); err != nil {
		return nil, corrupt(Zstd, err)
	}
	if hdr.Skippable || !hdr.HasFCS {
		return nil, fmt.Errorf("%w: zstd: frame does not declare its content size", ErrCorrupt)
	}
	if hdr.FrameContentSize > uint64(maxSize) {
		return nil, tooLarge(Zstd, hdr.FrameContentSize, maxSize)
	}
	dec, _ := zstdDecoders.Get().(*zstd.Decoder)
	if dec == nil {
		return nil, fmt.Errorf("%w: zstd: cannot create decoder", ErrCorrupt)
	}
	defer zstdDecoders.Put(dec)
	start, n := len(dst), int(hdr.FrameContentSize)
	dst = grow(dst, n)
	room := dst[start:start:len(dst)] // DecodeAll may fill, but not outgrow, room
	out, err := dec.DecodeAll(payload, room)
	if err != nil {
		return nil, corrupt(Zstd, err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: zstd: decoded %d bytes, header says %d", ErrCorrupt, len(out), n)
	}
	if n > 0 && &out[0] != &dst[start] {
		copy(dst[start:], out)
	}
	return dst, nil
}
