package repo

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// applyCompact carries out a plan: repack, write the new index files,
// then delete old index files and packs, in that order.
func (r *Repo) applyCompact(ctx context.Context, plan *compactPlan, set *usedSet, res *CompactResult, o CompactOptions, progress func(string, int, int)) error {
	res.BytesFreed, res.BytesCopied = 0, 0
	var freed int64
	newPacks, err := r.repackUsed(ctx, plan, set, res, progress)
	if err != nil {
		return err
	}
	written := id.NewSet()
	for _, p := range newPacks {
		written.Insert(p.ID)
	}

	// A lost lock means another process may be writing packs no index
	// names yet; deleting "orphans" now could delete them.
	if err := r.checkLock(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	progress("index", 0, 0)
	oldFiles, err := r.listIDs(ctx, backend.IndexFile)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	newFiles, err := r.writeCompactIndex(ctx, plan, newPacks, oldFiles)
	if err != nil {
		return err
	}
	res.IndexFilesWritten = len(newFiles)
	if err := r.checkLock(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	// Every kept blob is now named by a durable index file that
	// supersedes the old ones: from here on, deleting is safe.
	for _, f := range oldFiles.Sorted() {
		if newFiles.Has(f) {
			continue
		}
		err := r.be.Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: f.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return fmt.Errorf("compact: remove old index file %s: %w", f.Short(), err)
		}
		res.IndexFilesDeleted++
	}

	var doomed []id.ID
	for _, s := range []id.Set{plan.remove, plan.repack, plan.orphans} {
		for p := range s {
			if !written.Has(p) { // a new pack can equal an old one byte for byte
				doomed = append(doomed, p)
			}
		}
	}
	slices.SortFunc(doomed, id.ID.Compare)
	for i, p := range doomed {
		progress("delete", i, len(doomed))
		err := r.be.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: p.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return fmt.Errorf("compact: remove pack %s: %w", p.Short(), err)
		}
		o.Logger.Debug("compact: removed pack", "pack", p.String())
		freed += max(plan.sizes[p], 0)
	}
	progress("delete", len(doomed), len(doomed))
	for _, p := range newPacks {
		if !plan.packsHas(p.ID) {
			freed -= p.size
		}
	}
	res.BytesFreed = freed
	if err := r.cache.Reset(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := r.syncIndex(ctx); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return nil
}

func (p *compactPlan) packsHas(pack id.ID) bool {
	_, ok := p.sizes[pack]
	return ok
}

// newPack is a pack written by compaction.
type newPack struct {
	format.IndexPack
	size int64
}

// rawPacker fills one new pack with sealed blobs copied unchanged.
type rawPacker struct {
	buf   []byte
	blobs []format.Blob
}

// repackUsed copies the used blobs of the packs to repack into new packs,
// verifying each, and returns the new packs (all durable).
func (r *Repo) repackUsed(ctx context.Context, plan *compactPlan, set *usedSet, res *CompactResult, progress func(string, int, int)) ([]newPack, error) {
	if len(plan.repack) == 0 {
		return nil, nil
	}
	var todo []index.Entry
	i := 0
	err := r.cache.ForEachBlob(func(e index.Entry) error {
		used := set.usedAt(i)
		i++
		if used && plan.repack.Has(e.Pack) {
			todo = append(todo, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compact: %w", err)
	}
	slices.SortFunc(todo, func(a, b index.Entry) int {
		if c := a.Pack.Compare(b.Pack); c != 0 {
			return c
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
	var out []newPack
	packers := map[id.BlobType]*rawPacker{}
	flush := func(t id.BlobType) error {
		pk := packers[t]
		if pk == nil || len(pk.blobs) == 0 {
			return nil
		}
		np, err := r.saveRawPack(ctx, pk)
		if err != nil {
			return err
		}
		out = append(out, np)
		res.PacksWritten++
		pk.buf, pk.blobs = pk.buf[:0], nil
		return nil
	}
	var buf, plain []byte
	done := 0
	for start := 0; start < len(todo); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("repack", done, len(plan.repack))
		end := start
		for end < len(todo) && todo[end].Pack == todo[start].Pack {
			end++
		}
		group := todo[start:end]
		last := group[len(group)-1]
		n := int(last.Offset) + int(last.Length)
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		h := backend.Handle{Type: backend.PackFile, Name: last.Pack.String()}
		if err := backend.ReadAt(ctx, r.be, h, 0, buf); err != nil {
			return nil, fmt.Errorf("compact: read pack %s: %w", last.Pack.Short(), err)
		}
		for _, e := range group {
			sealed := buf[e.Offset : e.Offset+e.Length]
			if plain, err = r.openBlob(e.ID, e.Location, sealed, plain); err != nil {
				return nil, fmt.Errorf("compact: repack: %w (run 'gobak check')", err)
			}
			pk := packers[e.Type]
			if pk == nil {
				pk = &rawPacker{buf: make([]byte, 0, int(r.cfg.PackSize)+int(r.cfg.PackSize)/8)}
				packers[e.Type] = pk
			}
			pk.blobs = append(pk.blobs, format.Blob{Type: e.Type, ID: e.ID, Offset: uint32(len(pk.buf)), Length: e.Length, RawLength: e.RawLength})
			pk.buf = append(pk.buf, sealed...)
			res.BlobsCopied++
			res.BytesCopied += uint64(e.Length)
			if len(pk.buf) >= int(r.cfg.PackSize) || len(pk.blobs) >= maxPackBlobs {
				if err := flush(e.Type); err != nil {
					return nil, err
				}
			}
		}
		done++
		start = end
	}
	for _, t := range []id.BlobType{id.DataBlob, id.TreeBlob} {
		if err := flush(t); err != nil {
			return nil, err
		}
	}
	progress("repack", len(plan.repack), len(plan.repack))
	return out, nil
}

// saveRawPack seals the trailer of pk and stores the pack under the hash
// of its bytes, as the writer does.
func (r *Repo) saveRawPack(ctx context.Context, pk *rawPacker) (newPack, error) {
	trailer := format.EncodeTrailer(pk.blobs)
	n := len(pk.buf)
	pk.buf = r.key.Seal(pk.buf, trailer, adTrailer)
	pk.buf = binary.LittleEndian.AppendUint32(pk.buf, uint32(len(pk.buf)-n))
	packID := id.Hash(pk.buf)
	err := r.be.Save(ctx, backend.Handle{Type: backend.PackFile, Name: packID.String()}, pk.buf)
	if err != nil && !errors.Is(err, backend.ErrExist) {
		return newPack{}, fmt.Errorf("compact: save pack %s: %w", packID.Short(), err)
	}
	return newPack{IndexPack: format.IndexPack{ID: packID, Blobs: pk.blobs}, size: int64(len(pk.buf))}, nil
}

// writeCompactIndex writes index files naming the new packs and every kept
// pack (with all the blobs its old index entries list), at most
// maxBlobsPerIndexFile blobs each. Only the last one supersedes the old
// files, and it supersedes none of the new ones (a new file can have the
// same content, so the same name, as an old one). It fails, before the
// last file is written, if a kept pack is in no readable old index file.
func (r *Repo) writeCompactIndex(ctx context.Context, plan *compactPlan, newPacks []newPack, oldFiles id.Set) (id.Set, error) {
	written := id.NewSet()
	emitted := id.NewSet()
	var batch, carry []format.IndexPack
	nblobs := 0
	var save func(ix *format.Index) error
	save = func(ix *format.Index) error {
		f, err := r.saveIndexFile(ctx, ix)
		if err != nil {
			return fmt.Errorf("compact: write index file: %w", err)
		}
		if len(ix.Supersedes) == 0 && oldFiles.Has(f) {
			// Same content as an existing file (sealing is deterministic
			// without encryption), which another old file could
			// supersede: name these packs in other files instead, and
			// let the old file be superseded like the rest.
			if len(ix.Packs) < 2 {
				carry = append(carry, ix.Packs...)
				return nil
			}
			h := len(ix.Packs) / 2
			if err := save(&format.Index{Packs: ix.Packs[:h]}); err != nil {
				return err
			}
			return save(&format.Index{Packs: ix.Packs[h:]})
		}
		written.Insert(f)
		return nil
	}
	add := func(p format.IndexPack) error {
		if emitted.Has(p.ID) {
			return nil
		}
		emitted.Insert(p.ID)
		if nblobs > 0 && nblobs+len(p.Blobs) > maxBlobsPerIndexFile {
			if err := save(&format.Index{Packs: batch}); err != nil {
				return err
			}
			batch, nblobs = nil, 0
		}
		batch = append(batch, p)
		nblobs += len(p.Blobs)
		return nil
	}
	for _, p := range newPacks {
		if err := add(p.IndexPack); err != nil {
			return nil, err
		}
	}
	kept := func(pack id.ID) bool {
		_, indexed := plan.packs[pack]
		return indexed && !plan.remove.Has(pack) && !plan.repack.Has(pack)
	}
	for _, f := range oldFiles.Sorted() {
		ix, err := r.LoadIndexFile(ctx, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, ErrDamaged) || errors.Is(err, backend.ErrNotExist) {
				continue // the cache skipped it too
			}
			return nil, fmt.Errorf("compact: %w", err)
		}
		for _, p := range ix.Packs {
			if kept(p.ID) {
				if err := add(p); err != nil {
					return nil, err
				}
			}
		}
	}
	for pack := range plan.packs {
		if kept(pack) && !emitted.Has(pack) {
			return nil, fmt.Errorf("compact: kept pack %s is in no readable index file; nothing was deleted: %w", pack.Short(), ErrDamaged)
		}
	}
	var supersedes []id.ID
	for _, f := range oldFiles.Sorted() {
		if !written.Has(f) {
			supersedes = append(supersedes, f)
		}
	}
	// The last file is unique: it names old files, and none can name
	// itself.
	batch = append(batch, carry...)
	if err := save(&format.Index{Packs: batch, Supersedes: supersedes}); err != nil {
		return nil, err
	}
	return written, nil
}
