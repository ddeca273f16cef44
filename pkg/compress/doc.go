// Package compress turns blob plaintexts into the bytes that gobak seals:
// a one-byte codec identifier followed by the codec's payload.
//
// Four codecs exist, with frozen on-disk values and payload formats:
//
//	None (0)  the raw bytes
//	LZ4  (1)  uvarint(raw length) || LZ4 block (github.com/pierrec/lz4/v4)
//	Zstd (2)  one zstd frame whose header holds the content size
//	          (github.com/klauspost/compress/zstd)
//	S2   (3)  an S2 block, which starts with uvarint(raw length)
//	          (github.com/klauspost/compress/s2)
//
// A [Spec] selects how to compress; it is written like borg's --compression
// option ("lz4", "zstd,10", "auto,zstd", ...) and parsed by [ParseSpec].
// [Compress] never fails: data a codec does not shrink is stored as None.
// [Decompress] treats its input as untrusted: it bounds the output size,
// rejects unknown codecs and corrupt payloads with errors wrapping
// [ErrCorrupt], and never panics.
//
// Both functions are safe for concurrent use. Codec state (LZ4 hash tables,
// zstd encoders and decoders) is pooled, so steady-state calls with a
// large-enough dst do not allocate it anew.
package compress
