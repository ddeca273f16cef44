package index

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// FuzzDecodeLocation checks that decoding a stored blob location never
// panics, rejects bad input with ErrCorrupt, and that whatever decodes
// re-encodes to the same bytes.
func FuzzDecodeLocation(f *testing.F) {
	valid := make([]byte, locationSize)
	encodeLocation(valid, Location{Pack: id.Hash([]byte("p")), Type: id.DataBlob, Offset: 1, Length: 2, RawLength: 3})
	f.Add(valid)
	tree := make([]byte, locationSize)
	encodeLocation(tree, Location{Type: id.TreeBlob, Offset: ^uint32(0), Length: ^uint32(0), RawLength: ^uint32(0)})
	f.Add(tree)
	f.Add([]byte{})
	f.Add([]byte("junk"))
	f.Add(make([]byte, locationSize))          // type 0
	f.Add(append(bytes.Clone(valid), 0))       // one byte too long
	f.Add(bytes.Clone(valid[:locationSize-1])) // one byte short
	f.Fuzz(func(t *testing.T, val []byte) {
		key := []byte("key")
		loc, err := decodeLocation(key, val)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if !loc.Type.Valid() {
			t.Fatalf("decoded invalid type %d", loc.Type)
		}
		out := make([]byte, locationSize)
		encodeLocation(out, loc)
		if !bytes.Equal(out, val) {
			t.Fatalf("re-encoded %x, want %x", out, val)
		}
	})
}

// FuzzDecodeCounters covers the other fixed-layout values: the pack
// records and the Stats counters.
func FuzzDecodeCounters(f *testing.F) {
	f.Add(counters{packs: 1, blobs: 2, stored: 3, raw: 4, data: 5, tree: 6}.encode())
	pi := make([]byte, packInfoSize)
	encodePackInfo(pi, packInfo{blobs: 16, stored: 16 << 20})
	f.Add(pi)
	f.Add([]byte{})
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, val []byte) {
		if ctr, err := decodeCounters(val); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("counters: error %v does not wrap ErrCorrupt", err)
			}
		} else if out := ctr.encode(); !bytes.Equal(out, val) {
			t.Fatalf("counters re-encoded %x, want %x", out, val)
		}
		if info, err := decodePackInfo([]byte("key"), val); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("pack info: error %v does not wrap ErrCorrupt", err)
			}
		} else {
			out := make([]byte, packInfoSize)
			encodePackInfo(out, info)
			if !bytes.Equal(out, val) {
				t.Fatalf("pack info re-encoded %x, want %x", out, val)
			}
		}
	})
}
