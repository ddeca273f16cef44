package repo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// DefaultCompactThreshold is the unused share of a pack above which
// Compact repacks it when CompactOptions.Threshold is zero.
const DefaultCompactThreshold = 0.10

// CompactOptions control Compact.
type CompactOptions struct {
	// Used is called once and must call mark for every blob reachable from
	// the archives that are to be kept (trees, extent lists and data
	// blobs). mark reports whether the blob was marked before (so a
	// caller can skip a tree it has already walked); it fails for a blob
	// the index does not know, and Used must then return an error. Any
	// error from Used aborts the compaction before anything is changed.
	// mark is safe for concurrent use.
	Used func(mark func(id.ID) (seen bool, err error)) error
	// Threshold is the unused share of a pack's blob bytes (0..1) above
	// which the pack is repacked. Zero means DefaultCompactThreshold; a
	// tiny positive value repacks every pack with any unused byte, and 1
	// repacks none (packs holding nothing used are deleted regardless).
	Threshold float64
	// DryRun computes the result without writing or deleting anything
	// (it does not index orphan packs either; they count as deleted).
	DryRun bool
	// Progress, if set, is called from Compact's goroutine as it goes.
	Progress func(CompactProgress)
	// Logger receives what is deleted, at debug level; nil means the
	// repository's logger.
	Logger *slog.Logger
}

// CompactProgress tells how far Compact is.
type CompactProgress struct {
	Phase string // "mark", "plan", "repack", "index", "delete"
	Done  int    // packs (repack, delete) done so far
	Total int    // packs to do in this phase
}

// CompactResult reports what Compact did (or, with DryRun, would do).
// Byte counts are pack file sizes unless said otherwise.
type CompactResult struct {
	PacksBefore    int // packs in the repository (listed) before
	PacksDeleted   int // indexed packs holding nothing used, deleted
	PacksRepacked  int // packs whose used blobs were copied, then deleted
	PacksWritten   int // new packs holding the copied blobs
	OrphansDeleted int // packs no index file named, deleted
	BlobsCopied    int
	BytesCopied    uint64 // sealed blob bytes copied into new packs
	BytesFreed     int64  // pack bytes before minus pack bytes after
	// BytesUsed is the sealed size of the blobs the archives use.
	BytesUsed uint64
	// BytesUnusedLeft is the sealed size of unused blobs still stored in
	// packs below the threshold.
	BytesUnusedLeft   uint64
	IndexFilesWritten int
	IndexFilesDeleted int
	DryRun            bool
}

// packUse is what the plan knows of one indexed pack.
type packUse struct {
	stored uint64 // sealed bytes of the blobs the pack was indexed with
	used   uint64 // sealed bytes of its blobs the archives use
	size   int64  // file size; -1 when the pack is not in the listing
}

// compactPlan is what Compact decided to do.
type compactPlan struct {
	packs   map[id.ID]*packUse
	remove  id.Set // indexed packs holding nothing used
	repack  id.Set // indexed packs to copy and delete
	orphans id.Set // listed packs that no index file names
	sizes   map[id.ID]int64
}

// Compact frees the space of blobs no archive uses. The caller must hold
// an exclusive lock, and nothing else may write through r meanwhile.
//
// It flushes, indexes orphan packs, marks the used blobs (o.Used), then
// deletes packs holding nothing used and repacks packs whose unused share
// is above the threshold by copying their used blobs, still sealed and
// verified, into new packs. New index files naming every kept pack are
// written before anything is deleted; the last one supersedes all older
// index files. Only then are the old index files, the emptied and
// repacked packs and the orphan packs removed. A crash at any point leaves
// a repository whose archives are all complete; running Compact again
// finishes the job. Compact refuses (returns an error, changes nothing)
// when o.Used fails, when a used blob is not in the index, or when a pack
// holding used blobs is missing; a used blob that fails verification while
// being copied aborts it before any deletion (ErrDamaged).
//
// Memory: about 32 bytes per blob in the index for the mark set, an entry
// per pack, an entry per blob being copied, and two pack buffers.
func (r *Repo) Compact(ctx context.Context, o CompactOptions) (*CompactResult, error) {
	if o.Used == nil {
		return nil, errors.New("compact: no Used function")
	}
	if o.Threshold < 0 || o.Threshold > 1 {
		return nil, fmt.Errorf("compact: threshold %v out of range [0, 1]", o.Threshold)
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultCompactThreshold
	}
	if o.Logger == nil {
		o.Logger = r.opts.Logger
	}
	progress := func(phase string, done, total int) {
		if o.Progress != nil {
			o.Progress(CompactProgress{Phase: phase, Done: done, Total: total})
		}
	}
	if err := r.checkLock(); err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	if !o.DryRun {
		if err := r.Flush(ctx); err != nil {
			return nil, fmt.Errorf("compact: %w", err)
		}
		if _, err := r.IndexOrphanPacks(ctx); err != nil {
			return nil, fmt.Errorf("compact: %w", err)
		}
	}
	sizes, err := r.listPackSizes(ctx)
	if err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	progress("mark", 0, 0)
	set, err := r.newUsedSet()
	if err != nil {
		return nil, err
	}
	if err := o.Used(set.mark); err != nil {
		return nil, fmt.Errorf("compact: mark used blobs: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	progress("plan", 0, 0)
	plan, err := r.planCompact(set, sizes, o.Threshold)
	if err != nil {
		return nil, err
	}
	res := plan.result()
	res.DryRun = o.DryRun
	if o.DryRun || (len(plan.remove) == 0 && len(plan.repack) == 0 && len(plan.orphans) == 0) {
		return res, nil
	}
	if err := r.applyCompact(ctx, plan, set, res, o, progress); err != nil {
		return res, err
	}
	return res, nil
}

// planCompact computes every pack's used bytes and decides which packs to
// delete and which to repack.
func (r *Repo) planCompact(set *usedSet, sizes map[id.ID]int64, threshold float64) (*compactPlan, error) {
	p := &compactPlan{packs: make(map[id.ID]*packUse), remove: id.NewSet(), repack: id.NewSet(), orphans: id.NewSet(), sizes: sizes}
	err := r.cache.ForEachPack(func(pack id.ID, _ int, stored uint64) error {
		size, ok := sizes[pack]
		if !ok {
			size = -1
		}
		p.packs[pack] = &packUse{stored: stored, size: size}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	i := 0
	err = r.cache.ForEachBlob(func(e index.Entry) error {
		if i >= len(set.ids) || set.ids[i] != e.ID {
			return fmt.Errorf("compact: the index cache changed during compaction: %w", ErrLocked)
		}
		used := set.usedAt(i)
		i++
		pu := p.packs[e.Pack]
		if pu == nil {
			return fmt.Errorf("compact: blob %s is in pack %s, which the cache does not list: %w", e.ID.Short(), e.Pack.Short(), index.ErrCorrupt)
		}
		if used {
			pu.used += uint64(e.Length)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for pack, pu := range p.packs {
		switch {
		case pu.size < 0 && pu.used > 0:
			return nil, fmt.Errorf("compact: pack %s holds blobs that archives use but is missing (run 'gobak check'): %w", pack, ErrDamaged)
		case pu.used == 0:
			p.remove.Insert(pack)
		case pu.stored > pu.used && float64(pu.stored-pu.used) > threshold*float64(pu.stored):
			p.repack.Insert(pack)
		}
	}
	for pack := range sizes {
		if _, ok := p.packs[pack]; !ok {
			p.orphans.Insert(pack)
		}
	}
	return p, nil
}

// result fills in the figures known from the plan alone; the bytes freed
// assume the copied blobs take their sealed size plus a small trailer.
func (p *compactPlan) result() *CompactResult {
	res := &CompactResult{PacksBefore: len(p.sizes), PacksDeleted: len(p.remove), PacksRepacked: len(p.repack), OrphansDeleted: len(p.orphans)}
	for pack, pu := range p.packs {
		res.BytesUsed += pu.used
		switch {
		case p.remove.Has(pack):
			res.BytesFreed += max(pu.size, 0)
		case p.repack.Has(pack):
			res.BytesFreed += pu.size - int64(pu.used)
			res.BytesCopied += pu.used
		default:
			res.BytesUnusedLeft += pu.stored - pu.used
		}
	}
	for pack := range p.orphans {
		res.BytesFreed += p.sizes[pack]
	}
	return res
}
