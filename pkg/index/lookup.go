package index

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/gobak/gobak/pkg/id"
)

// Lookup returns the location of blob and whether it is in the cache. A
// stored value that does not decode gives an error wrapping ErrCorrupt.
// Each call runs one read-only transaction; use LookupMany for batches.
func (c *Cache) Lookup(blob id.ID) (Location, bool, error) {
	var (
		loc   Location
		found bool
	)
	err := c.view("lookup", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketBlobs)
		if err != nil {
			return err
		}
		v := b.Get(blob[:])
		if v == nil {
			return nil
		}
		loc, err = decodeLocation(blob[:], v)
		found = err == nil
		return err
	})
	return loc, found, err
}

// Has reports whether blob is in the cache. Unlike Lookup it does not
// decode the stored location, but a value of the wrong length still gives
// an error wrapping ErrCorrupt.
func (c *Cache) Has(blob id.ID) (bool, error) {
	var found bool
	err := c.view("has", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketBlobs)
		if err != nil {
			return err
		}
		found, err = has(b, blob)
		return err
	})
	return found, err
}

func has(b *bbolt.Bucket, blob id.ID) (bool, error) {
	v := b.Get(blob[:])
	if v == nil {
		return false, nil
	}
	if len(v) != locationSize {
		return false, fmt.Errorf("blob %s: location value has %d bytes, want %d: %w",
			blob, len(v), locationSize, ErrCorrupt)
	}
	return true, nil
}

// HasMany sets found[i] to whether blobs[i] is in the cache, all in one
// read-only transaction. found must be as long as blobs.
func (c *Cache) HasMany(blobs []id.ID, found []bool) error {
	if len(found) != len(blobs) {
		return fmt.Errorf("index cache: has many: %d results for %d blobs", len(found), len(blobs))
	}
	return c.view("has many", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketBlobs)
		if err != nil {
			return err
		}
		cur := b.Cursor()
		for i := range blobs {
			v := seekExact(cur, blobs[i][:])
			found[i] = v != nil
			if v != nil && len(v) != locationSize {
				return fmt.Errorf("blob %s: location value has %d bytes, want %d: %w",
					blobs[i], len(v), locationSize, ErrCorrupt)
			}
		}
		return nil
	})
}

// LookupMany sets locs[i] and found[i] to the location of blobs[i] and
// whether it is in the cache, all in one read-only transaction. locs and
// found must be as long as blobs; locs[i] is the zero Location when
// found[i] is false.
func (c *Cache) LookupMany(blobs []id.ID, locs []Location, found []bool) error {
	if len(found) != len(blobs) || len(locs) != len(blobs) {
		return fmt.Errorf("index cache: lookup many: %d locations and %d results for %d blobs",
			len(locs), len(found), len(blobs))
	}
	return c.view("lookup many", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketBlobs)
		if err != nil {
			return err
		}
		cur := b.Cursor()
		for i := range blobs {
			locs[i], found[i] = Location{}, false
			v := seekExact(cur, blobs[i][:])
			if v == nil {
				continue
			}
			if locs[i], err = decodeLocation(blobs[i][:], v); err != nil {
				return err
			}
			found[i] = true
		}
		return nil
	})
}

// seekExact returns the value stored under key, or nil, reusing cur so
// that a batch of lookups does not allocate a cursor per key.
func seekExact(cur *bbolt.Cursor, key []byte) []byte {
	k, v := cur.Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// HasPack reports whether pack has been added to the cache.
func (c *Cache) HasPack(pack id.ID) (bool, error) {
	var found bool
	err := c.view("has pack", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketPacks)
		if err != nil {
			return err
		}
		found = b.Get(pack[:]) != nil
		return nil
	})
	return found, err
}

// IsMerged reports whether the index file named file has been merged with
// AddIndexFile.
func (c *Cache) IsMerged(file id.ID) (bool, error) {
	var found bool
	err := c.view("is merged", func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketMerged)
		if err != nil {
			return err
		}
		found = b.Get(file[:]) != nil
		return nil
	})
	return found, err
}
