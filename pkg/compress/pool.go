package compress

import (
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// lz4Compressors pools LZ4 compressors; each holds a hash table of about
// 128 KiB that would otherwise be allocated per call.
var lz4Compressors = sync.Pool{New: func() any { return new(lz4.Compressor) }}

// zstdEncoders pools zstd encoders, one pool per encoder level (the 22 zstd
// levels map onto four klauspost levels, see zstd.EncoderLevelFromZstd).
// Index i holds encoders for zstd.EncoderLevel(i).
var zstdEncoders [zstd.SpeedBestCompression + 1]sync.Pool

func init() {
	for i := range zstdEncoders {
		level := zstd.EncoderLevel(i)
		zstdEncoders[i].New = func() any {
			enc, err := zstd.NewWriter(nil,
				zstd.WithEncoderLevel(level),
				zstd.WithEncoderConcurrency(1),
				// Blobs are authenticated and their IDs rechecked, so the
				// frame checksum would only cost 4 bytes per blob.
				zstd.WithEncoderCRC(false),
				// Single segment frames always carry the content size,
				// which Decompress checks before allocating.
				zstd.WithSingleSegment(true),
			)
			if err != nil {
				return nil // invalid level: Compress falls back to None
			}
			return enc
		}
	}
}

// zstdEncoderPool returns the encoder pool for a zstd level (1..22).
func zstdEncoderPool(level int) *sync.Pool {
	return &zstdEncoders[zstd.EncoderLevelFromZstd(level)]
}

// zstdDecoders pools zstd decoders. They run synchronously (concurrency 1,
// no goroutines) and DecodeAll never grows the destination beyond its
// capacity, which is how Decompress bounds the output.
var zstdDecoders = sync.Pool{New: func() any {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecodeAllCapLimit(true),
	)
	if err != nil {
		return nil
	}
	return dec
}}
