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
	Damaged map[id.ID]error // packs whose trailers could not be read; not indexed
	Written []id.ID         // new index files
	Removed []id.ID         // old index files deleted
}

// RebuildIndex replaces all index files by new ones built from the trailers
// of every pack in the repository, then rebuilds the cache from them. It
// is how a repository whose index files are lost or damaged is recovered.
// The caller must hold an exclusive lock. New files are written before old
// ones are deleted, and each new file lists the old ones as superseded, so
// a crash part-way leaves a usable repository.
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
	supersedes := old.Sorted()
	var batch []format.IndexPack
	nblobs := 0
	flush := func() error {
		if len(batch) == 0 && len(res.Written) > 0 {
			return nil
		}
		fileID, err := r.saveIndexFile(ctx, &format.Index{Supersedes: supersedes, Packs: batch})
		if err != nil {
			return fmt.Errorf("rebuild index: write index file: %w", err)
		}
		res.Written = append(res.Written, fileID)
		batch, nblobs = nil, 0
		return nil
	}
	for _, p := range all {
		if nblobs > 0 && nblobs+len(p.Blobs) > maxBlobsPerIndexFile {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		batch = append(batch, p)
		nblobs += len(p.Blobs)
		res.Packs++
		res.Blobs += len(p.Blobs)
	}
	if len(batch) > 0 || len(res.Written) == 0 {
		if err := flush(); err != nil {
			return nil, err
		}
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
