package compress

import (
	"errors"
	"strconv"
)

// Codec identifies a compression format. It is the first byte of every
// stored blob plaintext; the values are part of the repository format and
// never change.
type Codec byte

// The codecs. Their numeric values are frozen.
const (
	None Codec = 0 // stored uncompressed
	LZ4  Codec = 1 // LZ4 block, prefixed by uvarint(raw length)
	Zstd Codec = 2 // one zstd frame with the content size in its header
	S2   Codec = 3 // S2 block format
)

// ErrCorrupt is wrapped by every error [Decompress] returns: an empty input,
// an unknown codec byte, a malformed payload, or output larger than the
// caller's limit.
var ErrCorrupt = errors.New("corrupt compressed data")

// ErrInvalidSpec is wrapped by the errors of [ParseSpec] and [Spec.Validate].
var ErrInvalidSpec = errors.New("invalid compression spec")

// String returns the codec's name as used in compression specs ("none",
// "lz4", "zstd", "s2"), or "codec(N)" for an unknown value.
func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	case S2:
		return "s2"
	default:
		return "codec(" + strconv.Itoa(int(c)) + ")"
	}
}

// known reports whether c is one of the defined codecs.
func (c Codec) known() bool {
	return c <= S2
}
