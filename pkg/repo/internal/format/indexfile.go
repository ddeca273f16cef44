package format

import (
	"encoding/binary"
	"fmt"

	"github.com/gobak/gobak/pkg/id"
)

// IndexVersion is the first byte of an index file's plaintext.
const IndexVersion = 1

// IndexPack lists the blobs of one pack in an index file.
type IndexPack struct {
	ID    id.ID
	Blobs []Blob
}

// Index is the plaintext content of an index file: the packs it describes
// and the index files it replaces (set by compaction and index rebuilds, so
// a crash between writing the new file and deleting the old ones is
// harmless and can be finished later).
type Index struct {
	Supersedes []id.ID
	Packs      []IndexPack
}

// The index file plaintext is
//
//	version byte (1) | uvarint nsupersedes | nsupersedes × id[32]
//	| uvarint npacks | npacks × (pack id[32] | uvarint nblobs | nblobs × blob)
//
// where a blob is encoded as in the pack trailer.

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// EncodeIndex returns the plaintext of an index file.
func EncodeIndex(ix *Index) []byte {
	size := 16 + len(ix.Supersedes)*id.Size
	for _, p := range ix.Packs {
		size += id.Size + 4 + len(p.Blobs)*(minBlobEncoding+12)
	}
	out := make([]byte, 0, size)
	out = append(out, IndexVersion)
	out = appendUvarint(out, uint64(len(ix.Supersedes)))
	for _, s := range ix.Supersedes {
		out = append(out, s[:]...)
	}
	out = appendUvarint(out, uint64(len(ix.Packs)))
	for _, p := range ix.Packs {
		out = append(out, p.ID[:]...)
		out = appendUvarint(out, uint64(len(p.Blobs)))
		for _, b := range p.Blobs {
			out = appendBlob(out, b)
		}
	}
	return out
}

// DecodeIndex parses an index file plaintext. Blobs within each pack must
// be contiguous from offset 0, as in a pack trailer.
func DecodeIndex(data []byte) (*Index, error) {
	r := &reader{buf: data}
	if v := r.byte("index version"); r.err == nil && v != IndexVersion {
		return nil, fmt.Errorf("%w: index file version %d, want %d", ErrMalformed, v, IndexVersion)
	}
	ix := &Index{}
	ns := r.count("superseded index count", id.Size)
	for i := 0; i < ns && r.err == nil; i++ {
		ix.Supersedes = append(ix.Supersedes, r.id("superseded index id"))
	}
	np := r.count("pack count", id.Size+1)
	if r.err == nil {
		ix.Packs = make([]IndexPack, 0, np)
	}
	for i := 0; i < np && r.err == nil; i++ {
		p := IndexPack{ID: r.id("pack id")}
		nb := r.count("blob count", minBlobEncoding)
		if r.err != nil {
			break
		}
		p.Blobs = make([]Blob, 0, nb)
		var end uint64
		for j := 0; j < nb && r.err == nil; j++ {
			b := r.blob()
			if r.err == nil && uint64(b.Offset) != end {
				r.fail("pack %s blob %d starts at %d, want %d", p.ID.Short(), j, b.Offset, end)
			}
			end += uint64(b.Length)
			p.Blobs = append(p.Blobs, b)
		}
		ix.Packs = append(ix.Packs, p)
	}
	r.end("index file")
	if r.err != nil {
		return nil, r.err
	}
	return ix, nil
}
