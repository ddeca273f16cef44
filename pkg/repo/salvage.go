package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// SalvageResult reports what Salvage did.
type SalvageResult struct {
	// PacksRewritten counts damaged packs whose good blobs were copied
	// into new packs before the damaged pack was deleted.
	PacksRewritten int
	// PacksWritten counts the new packs.
	PacksWritten int
	// OrphansDeleted lists packs that no index file names and whose
	// trailer cannot be read (junk, or the damaged leftover of an
	// interrupted backup): nothing in them can be located, so they are
	// deleted.
	OrphansDeleted []id.ID
	// BlobsKept counts the blobs of damaged packs that verified and were
	// copied.
	BlobsKept int
	// Dropped lists the index entries of blobs that failed verification
	// (or lay beyond the end of a truncated pack, or in a missing pack)
	// and are no longer indexed, unless another pack holds a copy.
	Dropped []index.Entry
	// IndexFilesWritten and IndexFilesDeleted count the index files
	// replaced.
	IndexFilesWritten, IndexFilesDeleted int
}

// Salvage replaces the packs in damaged: every blob the index places in
// them is read and verified (authenticated, decompressed, ID recomputed);
// the blobs that verify are copied unchanged into new packs, the others are
// dropped from the index. Then index files naming the new packs and every
// other indexed pack are written, superseding the old ones, and only then
// are the damaged packs deleted, together with every pack that no index
// names (after RebuildIndex, those are exactly the packs whose trailer
// cannot be read). Packs in damaged that the index does not name are
// treated as such orphans.
//
// Salvage is the repair step after RebuildIndex: it assumes the index is
// as good as the trailers allow. The caller must hold an exclusive lock
// (Salvage checks it before deleting anything). A crash part-way leaves the
// old packs and index files in force, or the new ones; both are
// consistent. It returns an error wrapping backend errors when it cannot
// read, write or delete; damage found in the packs is reported in the
// result, not as an error.
func (r *Repo) Salvage(ctx context.Context, damaged id.Set, progress func(done, total int)) (*SalvageResult, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	if err := r.checkLock(); err != nil {
		return nil, fmt.Errorf("salvage: %w", err)
	}
	if err := r.Flush(ctx); err != nil {
		return nil, fmt.Errorf("salvage: %w", err)
	}
	sizes, err := r.listPackSizes(ctx)
	if err != nil {
		return nil, fmt.Errorf("salvage: %w", err)
	}
	plan := &compactPlan{packs: make(map[id.ID]*packUse), remove: id.NewSet(), repack: id.NewSet(), orphans: id.NewSet(), sizes: sizes}
	err = r.cache.ForEachPack(func(pack id.ID, _ int, stored uint64) error {
		size, ok := sizes[pack]
		if !ok {
			size = -1
		}
		plan.packs[pack] = &packUse{stored: stored, size: size}
		if damaged.Has(pack) || !ok {
			plan.repack.Insert(pack)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("salvage: %w", err)
	}
	res := &SalvageResult{}
	for pack := range sizes {
		if _, ok := plan.packs[pack]; !ok {
			plan.orphans.Insert(pack)
			res.OrphansDeleted = append(res.OrphansDeleted, pack)
		}
	}
	slices.SortFunc(res.OrphansDeleted, id.ID.Compare)
	if len(plan.repack) == 0 && len(plan.orphans) == 0 {
		return res, nil
	}
	newPacks, err := r.salvageBlobs(ctx, plan, res, progress)
	if err != nil {
		return res, err
	}
	res.PacksRewritten = len(plan.repack)
	res.PacksWritten = len(newPacks)
	st, err := r.replacePacks(ctx, "salvage", plan, newPacks, r.opts.Logger, func(string, int, int) {})
	res.IndexFilesWritten, res.IndexFilesDeleted = st.indexWritten, st.indexDeleted
	return res, err
}

// salvageBlobs copies the blobs of the packs to repack that verify into
// new packs and records the others as dropped. Every copy of a blob that
// an index file places in those packs is tried, so a blob with a good copy
// in any of them is kept; a blob whose copies all fail is dropped, unless
// a pack that is kept also holds it.
func (r *Repo) salvageBlobs(ctx context.Context, plan *compactPlan, res *SalvageResult, progress func(int, int)) ([]newPack, error) {
	todo, err := r.packEntries(ctx, plan.repack)
	if err != nil {
		return nil, err
	}
	sortByPack(todo)
	pc := &packCopier{r: r, ctx: ctx}
	copied := id.NewSet()
	failed := map[id.ID]index.Entry{}
	var plain []byte
	done := 0
	for start := 0; start < len(todo); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress(done, len(plan.repack))
		end := start
		for end < len(todo) && todo[end].Pack == todo[start].Pack {
			end++
		}
		group := todo[start:end]
		data, err := r.readPackFile(ctx, group[0].Pack)
		if err != nil {
			return nil, err
		}
		for _, e := range group {
			if copied.Has(e.ID) {
				continue
			}
			if int64(e.Offset)+int64(e.Length) > int64(len(data)) {
				failed[e.ID] = e
				continue
			}
			sealed := data[e.Offset : e.Offset+e.Length]
			if plain, err = r.openBlob(e.ID, e.Location, sealed, plain); err != nil {
				failed[e.ID] = e
				continue
			}
			if err := pc.add(e, sealed); err != nil {
				return nil, err
			}
			copied.Insert(e.ID)
			res.BlobsKept++
		}
		done++
		start = end
	}
	out, err := pc.finish()
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		// A blob whose copies here all fail may have one in a kept pack.
		err := r.forIndexedPacks(ctx, func(p format.IndexPack) {
			if plan.repack.Has(p.ID) || plan.orphans.Has(p.ID) || plan.sizes[p.ID] <= 0 {
				return
			}
			for _, b := range p.Blobs {
				delete(failed, b.ID)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for b, e := range failed {
		if !copied.Has(b) {
			res.Dropped = append(res.Dropped, e)
		}
	}
	slices.SortFunc(res.Dropped, func(a, b index.Entry) int { return a.ID.Compare(b.ID) })
	progress(len(plan.repack), len(plan.repack))
	return out, nil
}

// packEntries returns the entries that the readable index files give for
// the packs in packs.
func (r *Repo) packEntries(ctx context.Context, packs id.Set) ([]index.Entry, error) {
	var out []index.Entry
	err := r.forIndexedPacks(ctx, func(p format.IndexPack) {
		if !packs.Has(p.ID) {
			return
		}
		for _, b := range p.Blobs {
			out = append(out, index.Entry{ID: b.ID, Location: index.Location{Pack: p.ID, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}})
		}
	})
	return out, err
}

// forIndexedPacks calls fn for every pack the readable index files name,
// once per pack (with the entries of the first file naming it).
func (r *Repo) forIndexedPacks(ctx context.Context, fn func(format.IndexPack)) error {
	files, err := r.listIDs(ctx, backend.IndexFile)
	if err != nil {
		return fmt.Errorf("salvage: %w", err)
	}
	seen := id.NewSet()
	for _, f := range files.Sorted() {
		ix, err := r.LoadIndexFile(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrDamaged) || errors.Is(err, backend.ErrNotExist) {
				continue
			}
			return fmt.Errorf("salvage: %w", err)
		}
		for _, p := range ix.Packs {
			if !seen.Has(p.ID) {
				seen.Insert(p.ID)
				fn(p)
			}
		}
	}
	return nil
}

// readPackFile reads as much of a pack as exists; a missing pack reads as
// empty.
func (r *Repo) readPackFile(ctx context.Context, pack id.ID) ([]byte, error) {
	rd, err := r.be.Load(ctx, backend.Handle{Type: backend.PackFile, Name: pack.String()}, 0, 0)
	if errors.Is(err, backend.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("salvage: read pack %s: %w", pack.Short(), err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("salvage: read pack %s: %w", pack.Short(), err)
	}
	return data, nil
}
