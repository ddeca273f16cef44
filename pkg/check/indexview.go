package check

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

// view is what the repository's index files say, built by Check itself
// (the local cache is not trusted: it may predate damage).
type view struct {
	// blobs maps each blob to its locations (more than one when it is
	// stored in several packs).
	blobs map[id.ID][]index.Location
	// packs maps each indexed pack to its blobs, by blob ID.
	packs map[id.ID]map[id.ID]index.Location
	// packFile names one index file listing each pack, for messages.
	packFile map[id.ID]id.ID
}

// loadIndex reads every index file and builds the view, reporting files
// that cannot be read and conflicting entries.
func (c *checker) loadIndex() error {
	var files []id.ID
	err := c.be.List(c.ctx, backend.IndexFile, func(fi backend.FileInfo) error {
		f, err := id.Parse(fi.Name)
		if err != nil {
			if !c.o.ArchivesOnly {
				c.emit(Problem{Severity: Warning, Kind: KindJunk, Message: fmt.Sprintf("index/%s is not an index file name; gobak ignores it", fi.Name)})
			}
			return nil
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check: list index files: %w", err)
	}
	files = id.NewSet(files...).Sorted()

	loaded := make([]*repo.IndexFile, len(files))
	var done int
	var dmu sync.Mutex
	g, gctx := errgroup.WithContext(c.ctx)
	g.SetLimit(c.o.Workers)
	for i, f := range files {
		g.Go(func() error {
			ix, err := c.r.LoadIndexFile(gctx, f)
			switch {
			case gctx.Err() != nil:
				return gctx.Err()
			case errors.Is(err, backend.ErrNotExist):
				// removed since it was listed
			case err != nil:
				c.emit(Problem{Kind: KindIndexFile, IndexFile: f, Message: err.Error()})
			default:
				loaded[i] = ix
			}
			dmu.Lock()
			done++
			n := done
			dmu.Unlock()
			c.progress("index", n, len(files))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("check: index files: %w", err)
	}

	superseded := map[id.ID]id.ID{}
	for _, ix := range loaded {
		if ix == nil {
			continue
		}
		for _, s := range ix.Supersedes {
			superseded[s] = ix.ID
		}
	}
	v := &view{
		blobs:    map[id.ID][]index.Location{},
		packs:    map[id.ID]map[id.ID]index.Location{},
		packFile: map[id.ID]id.ID{},
	}
	nfiles := 0
	for _, ix := range loaded {
		if ix == nil {
			continue
		}
		nfiles++
		if by, ok := superseded[ix.ID]; ok {
			if !c.o.ArchivesOnly {
				c.emit(Problem{Severity: Warning, Kind: KindIndexFile, IndexFile: ix.ID,
					Message: fmt.Sprintf("superseded by index file %s but still present (an interrupted compact or index rebuild; run 'gobak compact')", by.Short())})
			}
			continue
		}
		for _, p := range ix.Packs {
			list := make([]indexBlob, len(p.Blobs))
			for i, b := range p.Blobs {
				list[i] = indexBlob{ID: b.ID, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
			}
			c.addPack(v, ix.ID, p.ID, list)
		}
	}
	c.view = v
	c.mu.Lock()
	c.sum.IndexFiles = nfiles
	c.sum.IndexedBlobs = len(v.blobs)
	c.mu.Unlock()
	return nil
}

// indexBlob is the part of an index file's blob entry Check uses; the
// element type of IndexFile.Packs[i].Blobs is internal to pkg/repo, so its
// fields are copied into this type.
type indexBlob struct {
	ID        id.ID
	Type      id.BlobType
	Offset    uint32
	Length    uint32
	RawLength uint32
}

// addPack adds one pack's entries of index file f to v.
func (c *checker) addPack(v *view, f, pack id.ID, list []indexBlob) {
	pm := v.packs[pack]
	if pm == nil {
		pm = make(map[id.ID]index.Location, len(list))
		v.packs[pack] = pm
		v.packFile[pack] = f
	}
	for _, b := range list {
		loc := index.Location{Pack: pack, Type: b.Type, Offset: b.Offset, Length: b.Length, RawLength: b.RawLength}
		if old, ok := pm[b.ID]; ok {
			if old != loc && !c.o.ArchivesOnly {
				c.emit(Problem{Kind: KindIndexConflict, Pack: pack, Blob: b.ID, IndexFile: f,
					Message: fmt.Sprintf("index files disagree on where the blob is in the pack: %s, and %s in index file %s", locString(old), locString(loc), v.packFile[pack].Short())})
			}
			continue
		}
		pm[b.ID] = loc
		locs := v.blobs[b.ID]
		for _, o := range locs {
			if (o.Type != loc.Type || o.RawLength != loc.RawLength) && !c.o.ArchivesOnly {
				c.emit(Problem{Kind: KindIndexConflict, Pack: pack, Blob: b.ID, IndexFile: f,
					Message: fmt.Sprintf("blob indexed in two packs with different type or length: %s, and %s", locString(o), locString(loc))})
				break
			}
		}
		v.blobs[b.ID] = append(locs, loc)
	}
}

// locString describes a location for messages.
func locString(l index.Location) string {
	return fmt.Sprintf("%s blob at %d+%d (%d raw bytes) in pack %s", l.Type, l.Offset, l.Length, l.RawLength, l.Pack.Short())
}
