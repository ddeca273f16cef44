package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// maxBlobsPerIndexFile bounds the index files RebuildIndex writes.
const maxBlobsPerIndexFile = 50000

// RebuildResult reports what RebuildIndex did.
type RebuildResult struct {
	Packs   int             // packs whose trailers were read and indexed
	Blobs   int             // blobs listed in those packs
	Damaged map[id.ID]error // packs whose trailers could not be read
	// Carried lists packs whose trailer could not be read (or that the
	// listing missed but that exist) and whose entries were taken over
	// from the old index files, so no index knowledge is thrown away.
	Carried []id.ID
	Written []id.ID // new index files
	Removed []id.ID // old index files deleted
}

// RebuildIndex replaces all index files by new ones built from the trailers
// of every pack in the repository, then rebuilds the cache from them. It
// is how a repository whose index files are lost or damaged is recovered.
// The caller must hold an exclusive lock. New files are written before old
// ones are deleted, and only the last new file lists the old ones as
// superseded, so a crash part-way leaves a usable repository. Entries of
// readable old index files for packs whose trailer is damaged, or that
// exist but were not listed, are carried over rather than dropped.
func (r *Repo) RebuildIndex(ctx context.Context) (*RebuildResult, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	old, err := r.listIDs(ctx, backend.IndexFile)
	if err != nil {
		return nil, err
	}
	packs, err := r.listIDs(ctx, backend.PackFile)
	if err != nil {
		return nil, err
	}
	res := &RebuildResult{Damaged: make(map[id.ID]error)}
	var mu sync.Mutex
	var all []format.IndexPack
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, p := range packs.Sorted() {
		g.Go(func() error {
			entries, _, err := r.PackBlobs(gctx, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				if !errors.Is(err, ErrDamaged) && !errors.Is(err, backend.ErrNotExist) {
					return err
				}
				res.Damaged[p] = err
				return nil
			}
			ip := format.IndexPack{ID: p, Blobs: make([]format.Blob, len(entries))}
			for i, e := range entries {
				ip.Blobs[i] = format.Blob{Type: e.Type, ID: e.ID, Offset: e.Offset, Length: e.Length, RawLength: e.RawLength}
			}
			all = append(all, ip)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("rebuild index: %w", err)
	}
	carried, err := r.carryOver(ctx, old, packs, all, res)
	if err != nil {
		return nil, err
	}
	all = append(all, carried...)
	supersedes := old.Sorted()
	// Cut the packs into files; only the last file written supersedes the
	// old ones, so until it exists the old files stay in force.
	var batches [][]format.IndexPack
	var batch []format.IndexPack
	nblobs := 0
	for _, p := range all {
		if nblobs > 0 && nblobs+len(p.Blobs) > maxBlobsPerIndexFile {
			batches = append(batches, batch)
			batch, nblobs = nil, 0
		}
		batch = append(batch, p)
		nblobs += len(p.Blobs)
		res.Packs++
		res.Blobs += len(p.Blobs)
	}
	batches = append(batches, batch)
	for i, b := range batches {
		ix := &format.Index{Packs: b}
		if i == len(batches)-1 {
			// With encryption "none" sealing is deterministic, so an
			// earlier batch may have reproduced an old file byte for byte:
			// that file is one of the new ones and must not be superseded.
			earlier := id.NewSet(res.Written...)
			for _, f := range supersedes {
				if !earlier.Has(f) {
					ix.Supersedes = append(ix.Supersedes, f)
				}
			}
		}
		fileID, err := r.saveIndexFile(ctx, ix)
		if err != nil {
			return nil, fmt.Errorf("rebuild index: write index file: %w", err)
		}
		res.Written = append(res.Written, fileID)
	}
	written := id.NewSet(res.Written...)
	for _, f := range supersedes {
		if written.Has(f) {
			continue
		}
		err := r.be.Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: f.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return res, fmt.Errorf("rebuild index: remove old index file %s: %w", f.Short(), err)
		}
		res.Removed = append(res.Removed, f)
	}
	if err := r.cache.Reset(); err != nil {
		return res, err
	}
	return res, r.syncIndex(ctx)
}

// carryOver returns the old index entries of packs that the rebuild could
// not read from their trailers: damaged trailers, and packs the listing
// did not show but that exist. Unreadable old index files are skipped.
func (r *Repo) carryOver(ctx context.Context, old, listed id.Set, rebuilt []format.IndexPack, res *RebuildResult) ([]format.IndexPack, error) {
	done := id.NewSet()
	for _, p := range rebuilt {
		done.Insert(p.ID)
	}
	var out []format.IndexPack
	for _, f := range old.Sorted() {
		ix, err := r.LoadIndexFile(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		for _, p := range ix.Packs {
			if done.Has(p.ID) {
				continue
			}
			derr, damaged := res.Damaged[p.ID]
			if damaged && errors.Is(derr, backend.ErrNotExist) {
				continue // listed, then gone
			}
			if !damaged {
				if listed.Has(p.ID) {
					continue // listed, but not rebuilt: cannot happen
				}
				_, err := r.be.Stat(ctx, backend.Handle{Type: backend.PackFile, Name: p.ID.String()})
				if errors.Is(err, backend.ErrNotExist) {
					continue // the pack is really gone
				}
				if err != nil {
					return nil, fmt.Errorf("rebuild index: stat pack %s: %w", p.ID.Short(), err)
				}
			}
			done.Insert(p.ID)
			out = append(out, p)
			res.Carried = append(res.Carried, p.ID)
		}
	}
	return out, nil
}

// IndexOrphanPacks finds packs that no index file names (left by a writer
// that was killed between uploading them and writing its index file),
// reads their trailers and writes an index file for them, so their blobs
// are reused instead of uploaded again. Packs whose trailer cannot be read
// are left alone (check reports them; compaction removes them). It returns
// how many packs it indexed. It is safe under a shared lock: indexing a
// pack another writer is about to index as well only duplicates entries,
// which is harmless.
func (r *Repo) IndexOrphanPacks(ctx context.Context) (int, error) {
	packs, err := r.listIDs(ctx, backend.PackFile)
	if err != nil {
		return 0, err
	}
	r.w.mu.Lock()
	inSession := id.NewSet()
	for _, l := range r.w.uploaded {
		inSession.Insert(l.Pack)
	}
	r.w.mu.Unlock()
	var found []format.IndexPack
	for _, p := range packs.Sorted() {
		if inSession.Has(p) {
			continue
		}
		known, err := r.cache.HasPack(p)
		if err != nil {
			return 0, err
		}
		if known {
			continue
		}
		entries, _, err := r.PackBlobs(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			r.opts.Logger.Warn("pack is in no index file and its trailer cannot be read; leaving it for check and compact", "pack", p.String(), "err", err)
			continue
		}
		ip := format.IndexPack{ID: p, Blobs: make([]format.Blob, len(entries))}
		for i, e := range entries {
			ip.Blobs[i] = format.Blob{Type: e.Type, ID: e.ID, Offset: e.Offset, Length: e.Length, RawLength: e.RawLength}
		}
		found = append(found, ip)
	}
	if len(found) == 0 {
		return 0, nil
	}
	r.w.indexMu.Lock()
	defer r.w.indexMu.Unlock()
	fileID, err := r.saveIndexFile(ctx, &format.Index{Packs: found})
	if err != nil {
		return 0, fmt.Errorf("index orphan packs: %w", err)
	}
	if err := r.cache.AddIndexFile(fileID, entriesOf(found)); err != nil {
		return 0, err
	}
	return len(found), nil
}
