package format

import (
	"fmt"
)

// TrailerVersion is the first byte of a pack trailer's plaintext.
const TrailerVersion = 1

// TrailerLengthSize is the size of the little-endian uint32 that ends every
// pack and gives the length of the sealed trailer before it.
const TrailerLengthSize = 4

// MaxTrailerLength bounds the sealed trailer a reader will accept (about
// 90,000 blobs), so a damaged length field cannot cause a huge read.
const MaxTrailerLength = 4 << 20

// A pack file is laid out as
//
//	sealed blob 0 | sealed blob 1 | ... | sealed trailer | uint32 LE len(sealed trailer)
//
// and the trailer's plaintext is
//
//	version byte (1) | uvarint count | count × (type byte, id[32], uvarint offset, uvarint length, uvarint raw length)
//
// Blobs are listed in pack order; the first starts at offset 0 and each
// starts where the previous one ends.

// EncodeTrailer returns the plaintext of a pack trailer listing blobs.
func EncodeTrailer(blobs []Blob) []byte {
	out := make([]byte, 0, 8+len(blobs)*(minBlobEncoding+12))
	out = append(out, TrailerVersion)
	out = appendUvarint(out, uint64(len(blobs)))
	for _, b := range blobs {
		out = appendBlob(out, b)
	}
	return out
}

// DecodeTrailer parses a trailer plaintext. It checks that blobs are
// contiguous from offset 0, and returns the end of the last blob (where the
// sealed trailer must begin) so the caller can check it against the pack
// size.
func DecodeTrailer(data []byte) (blobs []Blob, end uint64, err error) {
	r := &reader{buf: data}
	if v := r.byte("trailer version"); r.err == nil && v != TrailerVersion {
		return nil, 0, fmt.Errorf("%w: pack trailer version %d, want %d", ErrMalformed, v, TrailerVersion)
	}
	n := r.count("pack blob count", minBlobEncoding)
	blobs = make([]Blob, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		b := r.blob()
		if r.err != nil {
			break
		}
		if uint64(b.Offset) != end {
			r.fail("blob %d of pack trailer starts at %d, want %d", i, b.Offset, end)
			break
		}
		end += uint64(b.Length)
		if end > 1<<32-1 {
			r.fail("pack trailer blobs exceed 4 GiB")
			break
		}
		blobs = append(blobs, b)
	}
	r.end("pack trailer")
	if r.err != nil {
		return nil, 0, r.err
	}
	return blobs, end, nil
}
