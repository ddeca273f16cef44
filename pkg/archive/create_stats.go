package archive

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// accounting adds up an archive's Stats while Create runs. Stored sizes
// are only known once a blob is in an uploaded pack, so references to
// blobs that the store cannot locate yet (saved by this run, not flushed)
// are kept by ID and resolved after the flush; that set is bounded by the
// new data of this run, not by the size of the backup. It is safe for
// concurrent use.
type accounting struct {
	cs ChunkStore

	read    atomic.Uint64 // file content read
	written atomic.Uint64 // plaintext of chunks stored new

	mu         sync.Mutex
	st         Stats
	pending    map[id.ID]*pendingRef
	nextSettle int // try to settle pending when it has this many blobs
}

// pendingRef counts the references to one blob not yet located.
type pendingRef struct {
	refs  uint64 // data references (counted in CompressedSize)
	isNew bool   // stored by this run (counted once in DeduplicatedSize)
}

func newAccounting(cs ChunkStore) *accounting {
	return &accounting{cs: cs, pending: map[id.ID]*pendingRef{}, nextSettle: minSettle}
}

// chunk counts one reference to a data blob, stored now or not.
func (a *accounting) chunk(b id.ID, isNew bool, size int) {
	if isNew {
		a.written.Add(uint64(size))
	}
	var length uint64
	located := false
	if !isNew && a.cs != nil {
		if loc, ok, err := a.cs.Lookup(b); err == nil && ok {
			length, located = uint64(loc.Length), true
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.st.NChunks++
	if isNew {
		a.st.NNewChunks++
	}
	if located {
		a.st.CompressedSize += length
		return
	}
	p := a.pending[b]
	if p == nil {
		p = &pendingRef{}
		a.pending[b] = p
	}
	p.refs++
	p.isNew = p.isNew || isNew
	if len(a.pending) >= a.nextSettle {
		a.settle()
	}
}

// minSettle is the number of unlocated blobs at which accounting first
// tries to locate them during the run.
const minSettle = 1 << 16

// settle folds the pending blobs that the store can locate by now (their
// packs are uploaded) into the totals, so that the pending set stays
// bounded by what is not uploaded yet rather than growing with every new
// blob of the run. It needs a store that locates in batches; the next try
// comes when the set has doubled. a.mu must be held.
func (a *accounting) settle() {
	a.nextSettle = max(minSettle, 2*len(a.pending))
	bl, ok := a.cs.(batchLocator)
	if !ok {
		return
	}
	ids := make([]id.ID, 0, len(a.pending))
	for b := range a.pending {
		ids = append(ids, b)
	}
	slices.SortFunc(ids, id.ID.Compare) // the cache reads its pages in order
	locs := make([]index.Location, len(ids))
	found := make([]bool, len(ids))
	if bl.LookupMany(ids, locs, found) != nil {
		return // resolve will look again, and report the error
	}
	for i, b := range ids {
		if !found[i] {
			continue
		}
		p := a.pending[b]
		a.st.CompressedSize += p.refs * uint64(locs[i].Length)
		if p.isNew {
			a.st.DeduplicatedSize += uint64(locs[i].Length)
		}
		delete(a.pending, b)
	}
	a.nextSettle = max(minSettle, 2*len(a.pending))
}

// reuse counts the data references of a file taken from the parent. It
// returns false, counting nothing, if one of the blobs is not in the
// store (lost with a pack, say): the file must then be read again. known
// (may be nil) holds blobs already located in a batch; the others are
// looked up one by one.
func (a *accounting) reuse(ex []Extent, known blobSizes) bool {
	var n, length uint64
	for _, e := range ex {
		if e.IsHole() {
			continue
		}
		b := e.BlobID()
		if l, ok := known[b]; ok {
			n++
			length += uint64(l)
			continue
		}
		loc, ok, err := a.cs.Lookup(b)
		if err != nil || !ok {
			return false
		}
		n++
		length += uint64(loc.Length)
	}
	a.mu.Lock()
	a.st.NChunks += n
	a.st.CompressedSize += length
	a.mu.Unlock()
	return true
}

// tree counts a tree or extent-list blob.
func (a *accounting) tree(b id.ID, isNew bool) {
	if !isNew {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending[b] == nil {
		a.pending[b] = &pendingRef{}
	}
	a.pending[b].isNew = true
}

// file counts one regular file of the given size.
func (a *accounting) file(size uint64) {
	a.mu.Lock()
	a.st.NFiles++
	a.st.OriginalSize += size
	a.mu.Unlock()
}

// dir counts one directory.
func (a *accounting) dir() {
	a.mu.Lock()
	a.st.NDirs++
	a.mu.Unlock()
}

// resolve looks up the blobs that were not located yet; call it after a
// Flush.
func (a *accounting) resolve(cs ChunkStore) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for b, p := range a.pending {
		loc, ok, err := cs.Lookup(b)
		if err != nil {
			return fmt.Errorf("look up blob %s: %w", b.Short(), err)
		}
		if !ok {
			return fmt.Errorf("blob %s was saved but is not in the repository after the flush", b.Short())
		}
		a.st.CompressedSize += p.refs * uint64(loc.Length)
		if p.isNew {
			a.st.DeduplicatedSize += uint64(loc.Length)
		}
	}
	a.pending = map[id.ID]*pendingRef{}
	return nil
}

// stats returns the totals so far.
func (a *accounting) stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st
	st.ReadBytes = a.read.Load()
	return st
}

// progress returns a progress snapshot (without the path).
func (a *accounting) progress() Progress {
	a.mu.Lock()
	p := Progress{Files: a.st.NFiles, OriginalSize: a.st.OriginalSize}
	a.mu.Unlock()
	p.ReadBytes = a.read.Load()
	p.WrittenBytes = a.written.Load()
	return p
}
