package index

import (
	"encoding/binary"
	"fmt"

	"github.com/gobak/gobak/pkg/id"
)

// Fixed on-disk layouts of the values in the cache. All integers are little
// endian.
const (
	// locationSize is the length of a value in the blobs bucket:
	// pack id (32) | type (1) | offset (4) | length (4) | raw length (4).
	locationSize = id.Size + 1 + 3*4
	// packInfoSize is the length of a value in the packs bucket:
	// blob count (4) | stored bytes (8).
	packInfoSize = 4 + 8
	// countersSize is the length of the stats counters in the meta bucket:
	// packs, blobs, stored bytes, raw bytes, data blobs, tree blobs, data
	// stored bytes, data raw bytes (8 each).
	countersSize = 8 * 8
	// schemaSize is the length of the schema version value.
	schemaSize = 4
)

// encodeLocation writes loc into dst, which must be locationSize bytes long.
func encodeLocation(dst []byte, loc Location) {
	_ = dst[locationSize-1]
	copy(dst[:id.Size], loc.Pack[:])
	dst[id.Size] = byte(loc.Type)
	binary.LittleEndian.PutUint32(dst[id.Size+1:], loc.Offset)
	binary.LittleEndian.PutUint32(dst[id.Size+5:], loc.Length)
	binary.LittleEndian.PutUint32(dst[id.Size+9:], loc.RawLength)
}

// decodeLocation parses a value of the blobs bucket. key is only used to
// name the entry in errors. It returns an error wrapping ErrCorrupt for a
// value of the wrong length or with an unknown blob type.
func decodeLocation(key, val []byte) (Location, error) {
	if len(val) != locationSize {
		return Location{}, fmt.Errorf("blob %x: location value has %d bytes, want %d: %w",
			key, len(val), locationSize, ErrCorrupt)
	}
	var loc Location
	copy(loc.Pack[:], val[:id.Size])
	loc.Type = id.BlobType(val[id.Size])
	if !loc.Type.Valid() {
		return Location{}, fmt.Errorf("blob %x: invalid blob type %d: %w", key, val[id.Size], ErrCorrupt)
	}
	loc.Offset = binary.LittleEndian.Uint32(val[id.Size+1:])
	loc.Length = binary.LittleEndian.Uint32(val[id.Size+5:])
	loc.RawLength = binary.LittleEndian.Uint32(val[id.Size+9:])
	return loc, nil
}

// packInfo is what the packs bucket records about one pack: the number of
// entries the pack was added with and the sum of their sealed lengths.
type packInfo struct {
	blobs  uint32
	stored uint64
}

func encodePackInfo(dst []byte, p packInfo) {
	_ = dst[packInfoSize-1]
	binary.LittleEndian.PutUint32(dst, p.blobs)
	binary.LittleEndian.PutUint64(dst[4:], p.stored)
}

func decodePackInfo(key, val []byte) (packInfo, error) {
	if len(val) != packInfoSize {
		return packInfo{}, fmt.Errorf("pack %x: value has %d bytes, want %d: %w",
			key, len(val), packInfoSize, ErrCorrupt)
	}
	return packInfo{
		blobs:  binary.LittleEndian.Uint32(val),
		stored: binary.LittleEndian.Uint64(val[4:]),
	}, nil
}

// counters are the running totals behind Stats, kept in the meta bucket and
// updated in the same transaction as the blobs they count.
type counters struct {
	packs, blobs, stored, raw, data, tree, dataStored, dataRaw uint64
}

func (c counters) encode() []byte {
	b := make([]byte, countersSize)
	for i, v := range [...]uint64{c.packs, c.blobs, c.stored, c.raw, c.data, c.tree, c.dataStored, c.dataRaw} {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func decodeCounters(val []byte) (counters, error) {
	if len(val) != countersSize {
		return counters{}, fmt.Errorf("meta %q: value has %d bytes, want %d: %w",
			keyCounters, len(val), countersSize, ErrCorrupt)
	}
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(val[8*i:]) }
	return counters{packs: u(0), blobs: u(1), stored: u(2), raw: u(3), data: u(4), tree: u(5), dataStored: u(6), dataRaw: u(7)}, nil
}

func (c counters) stats() Stats {
	return Stats{
		Packs:       int(c.packs),
		Blobs:       int(c.blobs),
		StoredBytes: c.stored,
		RawBytes:    c.raw,
		DataBlobs:   int(c.data),
		TreeBlobs:   int(c.tree),
		DataStored:  c.dataStored,
		DataRaw:     c.dataRaw,
	}
}

// decodeID converts a bucket key to an ID, failing with ErrCorrupt when the
// key is not id.Size bytes long.
func decodeID(bucket, key []byte) (id.ID, error) {
	var v id.ID
	if len(key) != id.Size {
		return v, fmt.Errorf("bucket %s: key %x has %d bytes, want %d: %w",
			bucket, key, len(key), id.Size, ErrCorrupt)
	}
	copy(v[:], key)
	return v, nil
}
