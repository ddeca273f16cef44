package compress

import (
	"encoding/binary"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compress appends the codec byte and the compressed form of src to dst and
// returns the extended slice. If the chosen codec does not make the payload
// shorter than src (always the case for an empty src), it appends None || src
// instead, so the result is at most len(src)+1 bytes longer than dst.
//
// Compress never fails. An invalid Spec degrades gracefully: an unknown codec
// stores raw, a zstd level outside 1..22 is clamped. Use [Spec.Validate] to
// reject such specs up front.
//
// Compress is safe for concurrent use. dst and src must not overlap. It
// grows dst as needed; a dst with spare capacity of 2*len(src) (in fact a
// little over len(src); S2 and zstd reserve their worst-case output size)
// makes Compress allocate nothing.
func Compress(dst, src []byte, s Spec) []byte {
	if len(src) == 0 {
		return append(dst, byte(None))
	}
	if s.Auto {
		limit := int(int64(len(src)) * autoThreshold / 100)
		out, ok := appendLZ4(dst, src, limit)
		if !ok {
			return appendRaw(dst, src)
		}
		if s.Codec == LZ4 {
			return out
		}
		dst = out[:len(dst)]
	}
	var (
		out []byte
		ok  bool
	)
	switch s.Codec {
	case LZ4:
		out, ok = appendLZ4(dst, src, len(src))
	case S2:
		out, ok = appendS2(dst, src)
	case Zstd:
		out, ok = appendZstd(dst, src, s.zstdLevel())
	}
	if !ok {
		return appendRaw(dst, src)
	}
	return out
}

// appendRaw appends None || src.
func appendRaw(dst, src []byte) []byte {
	dst = slices.Grow(dst, 1+len(src))
	dst = append(dst, byte(None))
	return append(dst, src...)
}

// appendLZ4 appends LZ4 || uvarint(len(src)) || block if that payload is
// shorter than limit bytes. Otherwise it returns dst (possibly with grown
// capacity) and false.
func appendLZ4(dst, src []byte, limit int) ([]byte, bool) {
	var hdr [binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(len(src)))
	room := limit - h - 1 // the block must make the payload < limit
	if room <= 0 {
		return dst, false
	}
	start := len(dst)
	dst = slices.Grow(dst, 1+h+room)
	dst = append(dst, byte(LZ4))
	dst = append(dst, hdr[:h]...)
	c := lz4Compressors.Get().(*lz4.Compressor)
	// A destination smaller than lz4.CompressBlockBound makes the
	// compressor give up (n == 0) as soon as the output would not fit.
	n, err := c.CompressBlock(src, dst[len(dst):len(dst)+room])
	lz4Compressors.Put(c)
	if err != nil || n <= 0 || n > room {
		return dst[:start], false
	}
	return dst[:len(dst)+n], true
}

// appendS2 appends S2 || s2 block if the block is shorter than src.
func appendS2(dst, src []byte) ([]byte, bool) {
	bound := s2.MaxEncodedLen(len(src))
	if bound < 0 {
		return dst, false // too large for the block format
	}
	start := len(dst)
	dst = slices.Grow(dst, 1+bound)
	dst = append(dst, byte(S2))
	// With enough capacity s2.Encode writes into dst's spare room.
	room := dst[len(dst) : len(dst)+bound]
	enc := s2.Encode(room, src)
	if len(enc) >= len(src) {
		return dst[:start], false
	}
	if &enc[0] == &room[0] {
		return dst[:len(dst)+len(enc)], true
	}
	return append(dst, enc...), true
}

// appendZstd appends Zstd || frame if the frame is shorter than src.
func appendZstd(dst, src []byte, level int) ([]byte, bool) {
	pool := zstdEncoderPool(level)
	enc, _ := pool.Get().(*zstd.Encoder)
	if enc == nil {
		return dst, false
	}
	defer pool.Put(enc)
	start := len(dst)
	dst = slices.Grow(dst, 1+enc.MaxEncodedSize(len(src)))
	dst = append(dst, byte(Zstd))
	out := enc.EncodeAll(src, dst)
	if len(out)-start-1 >= len(src) {
		return out[:start], false
	}
	return out, true
}
