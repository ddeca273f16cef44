package index

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/gobak/gobak/pkg/id"
)

// AddPack records pack and its blobs in one write transaction. The Pack
// field of each entry is ignored: every entry is recorded as stored in pack.
//
// A blob already in the cache (from another pack, or earlier in entries)
// keeps its first location and is counted once in Stats. Adding a pack that
// is already in the cache changes nothing, so AddPack is idempotent. An
// entry with an unknown blob type gives an error wrapping ErrInvalidEntry
// and nothing is written.
func (c *Cache) AddPack(pack id.ID, entries []Entry) error {
	return c.update("add pack "+pack.String(), func(tx *bbolt.Tx) error {
		return addPacks(tx, []id.ID{pack}, [][]Entry{entries})
	})
}

// AddIndexFile records every pack in packs, as AddPack does, and marks the
// index file named file as merged, all in one write transaction: either the
// whole file is in the cache or none of it is. Packs are applied in
// ascending ID order, so when the same blob appears in two packs of one
// file, the pack with the smaller ID wins. Merging a file already marked
// merged changes nothing.
func (c *Cache) AddIndexFile(file id.ID, packs map[id.ID][]Entry) error {
	return c.update("add index file "+file.String(), func(tx *bbolt.Tx) error {
		merged, err := bucket(tx, bucketMerged)
		if err != nil {
			return err
		}
		if merged.Get(file[:]) != nil {
			return nil
		}
		ids := slices.SortedFunc(maps.Keys(packs), id.ID.Compare)
		lists := make([][]Entry, len(ids))
		for i, p := range ids {
			lists[i] = packs[p]
		}
		if err := addPacks(tx, ids, lists); err != nil {
			return err
		}
		return merged.Put(file[:], []byte{})
	})
}

// addPacks adds packs[i] with entries lists[i], skipping packs already
// present, and updates the counters, all within tx.
func addPacks(tx *bbolt.Tx, packs []id.ID, lists [][]Entry) error {
	meta, err := bucket(tx, bucketMeta)
	if err != nil {
		return err
	}
	pb, err := bucket(tx, bucketPacks)
	if err != nil {
		return err
	}
	bb, err := bucket(tx, bucketBlobs)
	if err != nil {
		return err
	}
	ctr, err := decodeCounters(meta.Get(keyCounters))
	if err != nil {
		return err
	}

	// Gather the entries of the new packs in pack order, with Pack set.
	// bbolt keeps references to keys and values until the transaction
	// ends, so they live in slices that are never reused.
	var all []pending
	var newPacks []id.ID
	var infos []packInfo
	for i, pack := range packs {
		if pb.Get(pack[:]) != nil {
			continue
		}
		info := packInfo{blobs: uint32(len(lists[i]))}
		for _, e := range lists[i] {
			if !e.Type.Valid() {
				return fmt.Errorf("pack %s: blob %s: type %d: %w", pack, e.ID, e.Type, ErrInvalidEntry)
			}
			e.Pack = pack
			all = append(all, pending{Entry: e, seq: len(all)})
			info.stored += uint64(e.Length)
		}
		newPacks = append(newPacks, pack)
		infos = append(infos, info)
	}
	if len(newPacks) == 0 {
		return nil
	}

	// Insert in key order: bbolt then touches each leaf once. Among equal
	// IDs the first one seen (pack order, then entry order) sorts first and
	// is inserted; the later ones are skipped.
	slices.SortFunc(all, func(a, b pending) int {
		if c := a.ID.Compare(b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	vals := make([]byte, locationSize*len(all))
	for i := range all {
		e := &all[i].Entry
		if i > 0 && all[i-1].ID == e.ID {
			continue
		}
		if v := bb.Get(e.ID[:]); v != nil {
			if len(v) != locationSize {
				return fmt.Errorf("blob %s: location value has %d bytes, want %d: %w",
					e.ID, len(v), locationSize, ErrCorrupt)
			}
			continue
		}
		val := vals[i*locationSize : (i+1)*locationSize : (i+1)*locationSize]
		encodeLocation(val, e.Location)
		if err := bb.Put(e.ID[:], val); err != nil {
			return fmt.Errorf("put blob %s: %w", e.ID, err)
		}
		ctr.blobs++
		ctr.stored += uint64(e.Length)
		ctr.raw += uint64(e.RawLength)
		if e.Type == id.DataBlob {
			ctr.data++
			ctr.dataStored += uint64(e.Length)
			ctr.dataRaw += uint64(e.RawLength)
		} else {
			ctr.tree++
		}
	}

	packVals := make([]byte, packInfoSize*len(newPacks))
	for i := range newPacks {
		val := packVals[i*packInfoSize : (i+1)*packInfoSize : (i+1)*packInfoSize]
		encodePackInfo(val, infos[i])
		if err := pb.Put(newPacks[i][:], val); err != nil {
			return fmt.Errorf("put pack %s: %w", newPacks[i], err)
		}
	}
	ctr.packs += uint64(len(newPacks))
	return meta.Put(keyCounters, ctr.encode())
}

// pending is an entry waiting to be inserted, with its position in the
// input so that the first of several equal IDs can be told apart.
type pending struct {
	Entry
	seq int
}
