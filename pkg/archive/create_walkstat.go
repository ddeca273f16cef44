package archive

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// Reading a directory's entries. The walk is sorted and runs on one
// goroutine, but the lstat of each entry is a system call that walks the
// path: with many small files it dominates an unchanged backup. So the
// entries of a directory are stat'ed by a few goroutines at once, and the
// extended attributes of regular files are not listed by the walk at all:
// an unchanged file takes them from the parent archive (setting an xattr
// changes the ctime, which the unchanged test compares), and a file that
// is read gets them from its open descriptor (readFile's Fstat). Then the
// blobs of the unchanged files are located in one batch.

// parallelStatMin is the smallest directory whose entries are stat'ed in
// parallel.
const parallelStatMin = 8

// exclusion is what the Excluder said about an entry.
type exclusion struct{ excluded, recurse bool }

// statResult is an entry's metadata or the error reading it.
type statResult struct {
	m   *fsmeta.Meta
	err error
}

// statDir reads the metadata of the entries names of dir, except those
// excluded without recursion, using up to 2 x GOMAXPROCS goroutines.
func (c *creator) statDir(dir string, names []string, excl []exclusion) []statResult {
	out := make([]statResult, len(names))
	todo := make([]int, 0, len(names))
	for i := range names {
		if !(excl[i].excluded && !excl[i].recurse) {
			todo = append(todo, i)
		}
	}
	if len(todo) < parallelStatMin {
		for _, i := range todo {
			out[i] = c.statEntry(joinFS(dir, names[i]))
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(len(todo)/parallelStatMin+1, 2*runtime.GOMAXPROCS(0))
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(todo) || c.ctx.Err() != nil {
					return
				}
				i := todo[k]
				out[i] = c.statEntry(joinFS(dir, names[i]))
			}
		})
	}
	wg.Wait()
	if err := c.ctx.Err(); err != nil {
		// Entries left when the run stopped: never a nil m without an
		// error.
		for _, i := range todo {
			if out[i].m == nil && out[i].err == nil {
				out[i].err = err
			}
		}
	}
	return out
}

// statEntry reads one entry's metadata: without extended attributes for
// a regular file (see above), with them for anything else.
func (c *creator) statEntry(path string) statResult {
	light := c.ropts
	light.NoXattrs = true
	m, err := fsmeta.Lstat(path, light)
	if err == nil && m.Type != fsmeta.Regular && !c.ropts.NoXattrs {
		m, err = fsmeta.Lstat(path, c.ropts)
	}
	return statResult{m: m, err: err}
}

// blobSizes maps blob IDs to their stored sizes (index.Location.Length).
type blobSizes map[id.ID]uint32

// batchLocator is implemented by stores that can locate many blobs at
// once (*repo.Repo does): locs[i] and found[i] are set for blobs[i].
type batchLocator interface {
	LookupMany(blobs []id.ID, locs []index.Location, found []bool) error
}

// lookupReused locates, in one batch, the blobs of the directory's files
// that look unchanged against their parent nodes (parents[i] is the
// parent's node of the entry of stats[i]), for accounting's
// reuse. It returns nil if the store cannot do batches or nothing is to
// be reused; blobs it did not find are left out (reuse then asks again).
func (c *creator) lookupReused(parents []*Node, stats []statResult) blobSizes {
	bl, ok := c.cs.(batchLocator)
	if !ok || c.o.DryRun {
		return nil
	}
	var ids []id.ID
	for i, p := range parents {
		st := stats[i]
		if p == nil || st.err != nil || st.m == nil || st.m.Type != fsmeta.Regular {
			continue
		}
		if !unchanged(p, st.m) || c.racy(p) {
			continue
		}
		for _, e := range p.Content { // extent lists (ContentParts) are looked up one by one
			if !e.IsHole() && len(e.ID) == len(id.ID{}) {
				ids = append(ids, e.BlobID())
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	locs := make([]index.Location, len(ids))
	found := make([]bool, len(ids))
	if err := bl.LookupMany(ids, locs, found); err != nil {
		return nil
	}
	out := make(blobSizes, len(ids))
	for i, b := range ids {
		if found[i] {
			out[b] = locs[i].Length
		}
	}
	return out
}

// align returns the parent's node of each of names (nil where it has
// none). names must be sorted by byte order, as a tree's nodes are: one
// merge instead of a search per name.
func (d parentDir) align(names []string) []*Node {
	out := make([]*Node, len(names))
	j := 0
	for i, nm := range names {
		for j < len(d) && string(d[j].Name) < nm {
			j++
		}
		if j < len(d) && string(d[j].Name) == nm {
			out[i] = &d[j]
		}
	}
	return out
}
