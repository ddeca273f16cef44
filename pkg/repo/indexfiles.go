package repo

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// listIDs lists the files of type t whose names are IDs.
func (r *Repo) listIDs(ctx context.Context, t backend.FileType) (id.Set, error) {
	out := id.NewSet()
	err := r.be.List(ctx, t, func(fi backend.FileInfo) error {
		v, err := id.Parse(fi.Name)
		if err != nil {
			r.opts.Logger.Warn("ignoring file with a name that is not an ID", "type", string(t), "name", fi.Name)
			return nil
		}
		out.Insert(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t, err)
	}
	return out, nil
}

// LoadIndexFile reads, authenticates and decodes one index file.
func (r *Repo) LoadIndexFile(ctx context.Context, file id.ID) (*IndexFile, error) {
	h := backend.Handle{Type: backend.IndexFile, Name: file.String()}
	data, err := backend.ReadAll(ctx, r.be, h)
	if err != nil {
		return nil, fmt.Errorf("index file %s: %w", file, err)
	}
	if id.Hash(data) != file {
		return nil, fmt.Errorf("index file %s: %w: content does not match its name", file, ErrDamaged)
	}
	plain, err := r.key.Open(nil, data, adIndex)
	if err != nil {
		return nil, fmt.Errorf("index file %s: %w: %v", file, ErrDamaged, err)
	}
	ix, err := format.DecodeIndex(plain)
	if err != nil {
		return nil, fmt.Errorf("index file %s: %w: %v", file, ErrDamaged, err)
	}
	return &IndexFile{ID: file, Supersedes: ix.Supersedes, Packs: ix.Packs}, nil
}

// IndexFile is the decoded content of one index file.
type IndexFile struct {
	ID         id.ID
	Supersedes []id.ID
	Packs      []format.IndexPack
}

// syncIndex brings the cache up to date with the repository's index files:
// it merges files it has not seen, and starts over if a file it merged is
// gone or superseded (compaction or an index rebuild replaced it). Damaged
// index files are skipped with a warning; check reports them and
// RebuildIndex replaces them.
func (r *Repo) syncIndex(ctx context.Context) error {
	files, err := r.listIDs(ctx, backend.IndexFile)
	if err != nil {
		return fmt.Errorf("%s: %w", r.be.Location(), err)
	}
	merged, err := r.cache.Merged()
	if err != nil {
		return err
	}
	reset := false
	for m := range merged {
		if !files.Has(m) {
			reset = true
			break
		}
	}
	newFiles, err := r.loadIndexFiles(ctx, files, merged, reset)
	if err != nil {
		return err
	}
	superseded := id.NewSet()
	for _, f := range newFiles {
		for _, s := range f.Supersedes {
			superseded.Insert(s)
		}
	}
	if !reset {
		for m := range merged {
			if superseded.Has(m) {
				reset = true
				break
			}
		}
		if reset {
			// Read the files merged before again; their entries may point
			// to packs that are gone.
			if newFiles, err = r.loadIndexFiles(ctx, files, nil, true); err != nil {
				return err
			}
			// Every file is loaded now: take the supersedes of all of them,
			// including those merged earlier.
			superseded = id.NewSet()
			for _, f := range newFiles {
				for _, s := range f.Supersedes {
					superseded.Insert(s)
				}
			}
		}
	}
	if reset {
		if err := r.cache.Reset(); err != nil {
			return err
		}
	}
	for _, f := range newFiles {
		if superseded.Has(f.ID) {
			// Record it as handled (no entries), so a later sync, which
			// no longer sees the superseding file as new, never merges it.
			if err := r.cache.AddIndexFile(f.ID, nil); err != nil {
				return fmt.Errorf("cache index file %s: %w", f.ID.Short(), err)
			}
			continue
		}
		if err := r.cache.AddIndexFile(f.ID, entriesOf(f.Packs)); err != nil {
			return fmt.Errorf("cache index file %s: %w", f.ID.Short(), err)
		}
	}
	return nil
}

// loadIndexFiles reads the files not yet merged (all files if all is set),
// four at a time.
func (r *Repo) loadIndexFiles(ctx context.Context, files, merged id.Set, all bool) ([]*IndexFile, error) {
	var todo []id.ID
	for _, f := range files.Sorted() {
		if all || !merged.Has(f) {
			todo = append(todo, f)
		}
	}
	out := make([]*IndexFile, len(todo))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, f := range todo {
		g.Go(func() error {
			ix, err := r.LoadIndexFile(gctx, f)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				if !errors.Is(err, ErrDamaged) && !errors.Is(err, backend.ErrNotExist) {
					return err // transient: do not build a cache that misses this file
				}
				r.opts.Logger.Warn("skipping damaged index file; run 'gobak check' and 'gobak check --repair'", "file", f.String(), "err", err)
				return nil
			}
			out[i] = ix
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := out[:0]
	for _, f := range out {
		if f != nil {
			res = append(res, f)
		}
	}
	return res, nil
}

// ListIndexFiles returns the IDs of all index files in the repository.
func (r *Repo) ListIndexFiles(ctx context.Context) (id.Set, error) {
	return r.listIDs(ctx, backend.IndexFile)
}

// ListPacks returns the IDs of all pack files in the repository.
func (r *Repo) ListPacks(ctx context.Context) (id.Set, error) {
	return r.listIDs(ctx, backend.PackFile)
}
