package index

import (
	"go.etcd.io/bbolt"

	"github.com/gobak/gobak/pkg/id"
)

// Stats returns the cache's totals. It reads counters kept up to date by
// every write, so its cost does not depend on the number of blobs.
func (c *Cache) Stats() (Stats, error) {
	var st Stats
	err := c.view("stats", func(tx *bbolt.Tx) error {
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		ctr, err := decodeCounters(meta.Get(keyCounters))
		st = ctr.stats()
		return err
	})
	return st, err
}

// Merged returns the IDs of the index files merged so far.
func (c *Cache) Merged() (id.Set, error) {
	set := id.NewSet()
	err := c.view("merged", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketMerged)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, _ []byte) error {
			v, err := decodeID(bucketMerged, k)
			set.Insert(v)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// ForEachBlob calls fn for every blob in the cache, in ascending ID order,
// within one read-only transaction; it stops at and returns the first error
// from fn. fn must not write to the cache (the write could wait forever for
// the read transaction to end). A stored value that does not decode gives
// an error wrapping ErrCorrupt.
func (c *Cache) ForEachBlob(fn func(Entry) error) error {
	return c.view("for each blob", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketBlobs)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			blob, err := decodeID(bucketBlobs, k)
			if err != nil {
				return err
			}
			loc, err := decodeLocation(k, v)
			if err != nil {
				return err
			}
			return callUser(fn, Entry{ID: blob, Location: loc})
		})
	})
}

// packArg bundles ForEachPack's callback arguments for callUser.
type packArg struct {
	pack   id.ID
	blobs  int
	stored uint64
}

// ForEachPack calls fn for every pack in the cache, in ascending ID order,
// within one read-only transaction, with the number of entries the pack was
// added with and the sum of their sealed lengths. These describe the pack
// itself: a blob whose first recorded location is another pack is still
// counted here. It stops at and returns the first error from fn; fn must
// not write to the cache.
func (c *Cache) ForEachPack(fn func(pack id.ID, blobs int, storedBytes uint64) error) error {
	call := func(a packArg) error { return fn(a.pack, a.blobs, a.stored) }
	return c.view("for each pack", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketPacks)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			pack, err := decodeID(bucketPacks, k)
			if err != nil {
				return err
			}
			info, err := decodePackInfo(k, v)
			if err != nil {
				return err
			}
			return callUser(call, packArg{pack: pack, blobs: int(info.blobs), stored: info.stored})
		})
	})
}
