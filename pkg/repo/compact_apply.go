package repo

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
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
	newPacks, err := r.repackUsed(ctx, plan, set, res, progress)
	if err != nil {
		return err
	}
	st, err := r.replacePacks(ctx, "compact", plan, newPacks, o.Logger, progress)
	res.IndexFilesWritten, res.IndexFilesDeleted, res.BytesFreed = st.indexWritten, st.indexDeleted, st.freed
	return err
}

// replaceStats counts what replacePacks did.
type replaceStats struct {
	indexWritten, indexDeleted, packsDeleted int
	freed                                    int64
}

// replacePacks finishes a rewrite of packs (compaction or salvage): it
// writes index files naming newPacks and every kept pack of plan, the last
// one superseding all old index files; then deletes the old index files,
// then the packs plan removes, repacks or finds orphaned; then rebuilds the
// cache from the new index files. The lock is checked before anything is
// deleted. op prefixes errors.
func (r *Repo) replacePacks(ctx context.Context, op string, plan *compactPlan, newPacks []newPack, logger *slog.Logger, progress func(string, int, int)) (replaceStats, error) {
	var st replaceStats
	written := id.NewSet()
	for _, p := range newPacks {
		written.Insert(p.ID)
	}
	// A lost lock means another process may be writing packs no index
	// names yet; deleting "orphans" now could delete them.
	if err := r.checkLock(); err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	progress("index", 0, 0)
	oldFiles, err := r.listIDs(ctx, backend.IndexFile)
	if err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	newFiles, err := r.writeCompactIndex(ctx, plan, newPacks, oldFiles)
	if err != nil {
		return st, err
	}
	st.indexWritten = len(newFiles)
	if err := r.checkLock(); err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	// Every kept blob is now named by a durable index file that
	// supersedes the old ones: from here on, deleting is safe.
	for _, f := range oldFiles.Sorted() {
		if newFiles.Has(f) {
			continue
		}
		err := r.be.Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: f.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return st, fmt.Errorf("%s: remove old index file %s: %w", op, f.Short(), err)
		}
		st.indexDeleted++
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
			return st, fmt.Errorf("%s: remove pack %s: %w", op, p.Short(), err)
		}
		logger.Debug(op+": removed pack", "pack", p.String())
		st.freed += max(plan.sizes[p], 0)
		st.packsDeleted++
	}
	progress("delete", len(doomed), len(doomed))
	for _, p := range newPacks {
		if !plan.packsHas(p.ID) {
			st.freed -= p.size
		}
	}
	if err := r.cache.Reset(); err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	if err := r.syncIndex(ctx); err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	return st, nil
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
	sortByPack(todo)
	pc := &packCopier{r: r, ctx: ctx}
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
			if err := pc.add(e, sealed); err != nil {
				return nil, err
			}
			res.BlobsCopied++
			res.BytesCopied += uint64(e.Length)
		}
		done++
		start = end
	}
	out, err := pc.finish()
	if err != nil {
		return nil, err
	}
	res.PacksWritten = len(out)
	progress("repack", len(plan.repack), len(plan.repack))
	return out, nil
}

// sortByPack sorts index entries by pack, then offset.
func sortByPack(es []index.Entry) {
	slices.SortFunc(es, func(a, b index.Entry) int {
		if c := a.Pack.Compare(b.Pack); c != 0 {
			return c
		}
		return cmp.Compare(a.Offset, b.Offset)
	})
}

// packCopier copies sealed blobs unchanged into new packs (one open pack
// per blob type), as compaction and salvage do.
type packCopier struct {
	r       *Repo
	ctx     context.Context
	packers map[id.BlobType]*rawPacker
	out     []newPack
}

// add appends the sealed blob of entry e, saving the pack when it is full.
func (c *packCopier) add(e index.Entry, sealed []byte) error {
	if c.packers == nil {
		c.packers = map[id.BlobType]*rawPacker{}
	}
	pk := c.packers[e.Type]
	if pk == nil {
		size := int(c.r.cfg.PackSize)
		pk = &rawPacker{buf: make([]byte, 0, size+size/8)}
		c.packers[e.Type] = pk
	}
	pk.blobs = append(pk.blobs, format.Blob{Type: e.Type, ID: e.ID, Offset: uint32(len(pk.buf)), Length: e.Length, RawLength: e.RawLength})
	pk.buf = append(pk.buf, sealed...)
	if len(pk.buf) >= int(c.r.cfg.PackSize) || len(pk.blobs) >= maxPackBlobs {
		return c.flush(e.Type)
	}
	return nil
}

// flush saves the open pack of type t, if it holds anything.
func (c *packCopier) flush(t id.BlobType) error {
	pk := c.packers[t]
	if pk == nil || len(pk.blobs) == 0 {
		return nil
	}
	np, err := c.r.saveRawPack(c.ctx, pk)
	if err != nil {
		return err
	}
	c.out = append(c.out, np)
	pk.buf, pk.blobs = pk.buf[:0], nil
	return nil
}

// finish saves the open packs and returns every pack written (durable).
func (c *packCopier) finish() ([]newPack, error) {
	for _, t := range []id.BlobType{id.DataBlob, id.TreeBlob} {
		if err := c.flush(t); err != nil {
			return nil, err
		}
	}
	return c.out, nil
}

// listPackSizes returns the size of every pack file listed.
func (r *Repo) listPackSizes(ctx context.Context) (map[id.ID]int64, error) {
	sizes := make(map[id.ID]int64)
	err := r.be.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		if v, err := id.Parse(fi.Name); err == nil {
			sizes[v] = fi.Size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	return sizes, nil
}

// saveRawPack seals the trailer of pk and stores the pack under the hash
// of its bytes, as the writer does.
func (r *Repo) saveRawPack(ctx context.Context, pk *rawPacker) (newPack, error) {
	trailer := format.EncodeTrailer(pk.blobs)
	n := len(pk.buf)
	pk.buf = r.key.Seal(pk.buf, trailer, adTrailer)
	pk.buf = binary.LittleEndian.AppendUint32(pk.buf, uint32(len(pk.buf)-n))
	packID := id.Hash(pk.buf)
	h := backend.Handle{Type: backend.PackFile, Name: packID.String()}
	err := r.be.Save(ctx, h, pk.buf)
	if errors.Is(err, backend.ErrExist) {
		// The same bytes as an existing pack (sealing is deterministic
		// with encryption "none"): fine if that file is intact, but it
		// may be the damaged pack being salvaged, with its original name.
		err = r.restoreIfDamaged(ctx, h, packID, pk.buf)
	}
	if err != nil {
		return newPack{}, fmt.Errorf("save pack %s: %w", packID.Short(), err)
	}
	return newPack{IndexPack: format.IndexPack{ID: packID, Blobs: pk.blobs}, size: int64(len(pk.buf))}, nil
}

// restoreIfDamaged checks that the existing file h holds data (whose hash
// is want), and atomically replaces it with data if it does not.
func (r *Repo) restoreIfDamaged(ctx context.Context, h backend.Handle, want id.ID, data []byte) error {
	old, err := backend.ReadAll(ctx, r.be, h)
	if err != nil {
		return err
	}
	if id.Hash(old) == want {
		return nil
	}
	rp, ok := r.be.(replacer)
	if !ok {
		return fmt.Errorf("%w: the existing pack is damaged and this backend cannot replace it", ErrDamaged)
	}
	return rp.Replace(ctx, h, data)
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
