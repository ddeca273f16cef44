package check

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// checkPacks lists the packs, reports indexed packs that are missing, and
// checks every listed pack: its trailer against the index, and, when it is
// selected for a full read, its name and every blob in it.
func (c *checker) checkPacks() error {
	c.listed = map[id.ID]int64{}
	err := c.be.List(c.ctx, backend.PackFile, func(fi backend.FileInfo) error {
		p, err := id.Parse(fi.Name)
		if err != nil {
			c.emit(Problem{Severity: Warning, Kind: KindJunk, Message: fmt.Sprintf("%s is not a pack name; gobak ignores it", backend.Handle{Type: backend.PackFile, Name: fi.Name})})
			return nil
		}
		c.listed[p] = fi.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("check: list packs: %w", err)
	}
	c.mu.Lock()
	c.sum.Packs = len(c.listed)
	c.mu.Unlock()

	indexed := make([]id.ID, 0, len(c.view.packs))
	for p := range c.view.packs {
		indexed = append(indexed, p)
	}
	sortIDs(indexed)
	for _, p := range indexed {
		if _, ok := c.listed[p]; ok {
			continue
		}
		blobs := c.view.packs[p]
		c.emit(Problem{Kind: KindMissingPack, Pack: p, IndexFile: c.view.packFile[p],
			Message: fmt.Sprintf("the index names %d blobs in this pack, but the pack file does not exist", len(blobs))})
		for b, loc := range blobs {
			c.markBad(b, blobIssue{kind: KindMissingPack, pack: p, typ: loc.Type, msg: "its pack does not exist"})
		}
	}

	todo := make([]id.ID, 0, len(c.listed))
	for p := range c.listed {
		todo = append(todo, p)
	}
	sortIDs(todo)
	var dmu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(c.ctx)
	g.SetLimit(c.o.Workers)
	for _, p := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := c.checkPack(p, c.listed[p]); err != nil {
				return err
			}
			dmu.Lock()
			done++
			n := done
			dmu.Unlock()
			c.progress("packs", n, len(todo))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return c.ctxErr()
}

// fullRead says whether pack p is selected to be read in full.
func (c *checker) fullRead(p id.ID) bool {
	if c.o.Subset != nil {
		return c.o.Subset.Selects(p)
	}
	return c.o.VerifyData
}

// checkPack checks one listed pack of size bytes. It returns only context
// errors; problems are reported.
func (c *checker) checkPack(p id.ID, size int64) error {
	indexed := c.view.packs[p]
	orphan := indexed == nil
	full := c.fullRead(p)
	trailer, _, terr := c.r.PackBlobs(c.ctx, p)
	switch {
	case c.ctx.Err() != nil:
		return c.ctxErr()
	case errors.Is(terr, backend.ErrNotExist):
		return nil // removed since it was listed
	case terr != nil && orphan:
		c.emit(Problem{Severity: Warning, Kind: KindOrphanPack, Pack: p,
			Message: fmt.Sprintf("no index file names this pack and it is not a readable pack (junk, or a damaged leftover of an interrupted backup); 'gobak compact' removes it: %v", terr)})
		trailer = nil
	case terr != nil:
		c.emit(Problem{Kind: KindPackTrailer, Pack: p, IndexFile: c.view.packFile[p], Message: terr.Error()})
		trailer = nil
		full = true // find out which of its blobs are still good
	default:
		c.mu.Lock()
		c.sum.PacksTrailer++
		c.mu.Unlock()
		if orphan {
			c.mu.Lock()
			for _, e := range trailer {
				c.unindexed[e.ID] = e.Location
			}
			c.mu.Unlock()
			c.emit(Problem{Severity: Warning, Kind: KindOrphanPack, Pack: p,
				Message: fmt.Sprintf("no index file names this pack of %d blobs (left by an interrupted backup); run 'gobak compact'", len(trailer))})
		} else if c.compareTrailer(p, trailer, indexed) {
			full = true
		}
	}
	if !full {
		return nil
	}
	return c.verifyPack(p, size, trailer, indexed)
}

// compareTrailer reports disagreements between a pack's trailer and the
// index. It returns true if an indexed blob is not where the index says.
func (c *checker) compareTrailer(p id.ID, trailer []index.Entry, indexed map[id.ID]index.Location) bool {
	inTrailer := make(map[id.ID]index.Location, len(trailer))
	for _, e := range trailer {
		inTrailer[e.ID] = e.Location
	}
	bad := false
	for _, b := range sortedKeys(indexed) {
		loc := indexed[b]
		t, ok := inTrailer[b]
		switch {
		case !ok:
			c.emit(Problem{Kind: KindIndexMismatch, Pack: p, Blob: b, IndexFile: c.view.packFile[p],
				Message: "the index names this blob in the pack, but the pack's trailer does not list it"})
			bad = true
		case t != loc:
			c.emit(Problem{Kind: KindIndexMismatch, Pack: p, Blob: b, IndexFile: c.view.packFile[p],
				Message: fmt.Sprintf("the index says %s, the pack's trailer says %s", locString(loc), locString(t))})
			bad = true
		}
	}
	extra := 0
	for _, e := range trailer {
		if _, ok := indexed[e.ID]; !ok {
			extra++
		}
	}
	if extra > 0 {
		c.emit(Problem{Severity: Warning, Kind: KindIndexMismatch, Pack: p,
			Message: fmt.Sprintf("%d blobs listed in the pack's trailer are in no index file (an index rebuild recovers them; compact removes them)", extra)})
	}
	return bad
}

func sortIDs(s []id.ID) {
	sort.Slice(s, func(i, j int) bool { return s[i].Compare(s[j]) < 0 })
}

func sortedKeys[V any](m map[id.ID]V) []id.ID {
	out := make([]id.ID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortIDs(out)
	return out
}
