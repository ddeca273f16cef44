package repo

import (
	"fmt"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// LookupMany is Lookup for a batch: it sets locs[i] and found[i] to where
// blobs[i] is stored (an uploaded pack of this session or the index
// cache) and whether it was found. The cache is read in one transaction,
// which makes a batch far cheaper than one Lookup per blob. locs and found
// must be as long as blobs. It is safe for concurrent use.
func (r *Repo) LookupMany(blobs []id.ID, locs []index.Location, found []bool) error {
	if len(locs) != len(blobs) || len(found) != len(blobs) {
		return fmt.Errorf("lookup many: %d locations and %d results for %d blobs", len(locs), len(found), len(blobs))
	}
	// This session's uploaded packs first: a blob leaves them only after
	// it is in the cache, so it cannot fall between the two looks.
	var rest []int
	r.w.mu.Lock()
	for i, b := range blobs {
		if locs[i], found[i] = r.w.uploaded[b]; !found[i] {
			rest = append(rest, i)
		}
	}
	r.w.mu.Unlock()
	if len(rest) == 0 {
		return nil
	}
	if len(rest) == len(blobs) {
		if err := r.cache.LookupMany(blobs, locs, found); err != nil {
			return fmt.Errorf("lookup many: %w", err)
		}
		return nil
	}
	ids := make([]id.ID, len(rest))
	for j, i := range rest {
		ids[j] = blobs[i]
	}
	l := make([]index.Location, len(rest))
	f := make([]bool, len(rest))
	if err := r.cache.LookupMany(ids, l, f); err != nil {
		return fmt.Errorf("lookup many: %w", err)
	}
	for j, i := range rest {
		locs[i], found[i] = l[j], f[j]
	}
	return nil
}
