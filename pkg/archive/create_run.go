package archive

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
)

// The create pipeline:
//
//	walker (the caller's goroutine, sorted depth-first; the entries of
//	  | a directory are stat'ed in parallel, see create_walkstat.go)
//	  | regular files to read          | directories, in post-order
//	  v                                v
//	readers (2 x Workers): open,       tree saver (one): waits for each
//	advise read-ahead, find data       entry's node in order, encodes and
//	regions, chunk into a bounded      saves the directory's tree blob
//	pool of buffers                      ^
//	  | chunks                           | file nodes (futures)
//	  v                                  |
//	savers (Workers): SaveBlob (hash, compress, seal) on every core
//
// Many files are in flight at once (the walker runs ahead of the readers
// by up to fileQueue files), one file's chunks are saved in parallel, and
// memory is bounded by the buffer pool (Workers+1 chunk buffers of at
// most Chunker.Max bytes: one per saver and one being filled) whatever
// the file sizes. Each file's extent list keeps the order of its chunks:
// a reader reserves the slot of a chunk before handing it to a saver.

// Queue lengths.
const (
	fileQueue = 64 // files the walker may queue ahead of the readers
	dirQueue  = 64 // directories waiting for the tree saver
	// maxPreallocChunk is the largest chunker maximum for which chunk
	// buffers are allocated at full size up front.
	maxPreallocChunk = 16 << 20
	// maxExtentsInline is the most extents a node holds itself; longer
	// lists go to extent-list blobs (Node.ContentParts).
	maxExtentsInline = 20000
	// extentBytes bounds the encoded size of one extent (a 32-byte ID
	// and a size), for sizing extent lists to the tree blob limit.
	extentBytes = 48
)

// createHooks let tests watch and disturb Create.
type createHooks struct {
	open       func(path string) (*os.File, error) // replaces openNoFollow
	beforeOpen func(path string)                   // called by a reader before it opens a file
	peakBufs   *atomic.Int64                       // receives the peak number of chunk buffers in use
}

// creator is one run of Create.
type creator struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	cs     ChunkStore
	o      *CreateOptions
	acct   *accounting
	ropts  fsmeta.ReadOptions
	hooks  createHooks

	maxTree int // largest tree blob
	bufCap  int // capacity of a new chunk buffer (0: grow as needed)
	perList int // extents per extent-list blob

	files  chan *fileJob
	chunks chan chunkJob
	bufs   chan []byte
	dirs   chan *dirJob

	inUse atomic.Int64 // chunk buffers in use

	cbMu     sync.Mutex // serializes the callbacks and guards warns
	warns    []string
	nwarns   int
	current  atomic.Pointer[string]
	missing  int // top-level paths that do not exist
	nplanned int
}

// result is the future node of an entry: closed done means node is final
// (nil: the entry is left out). For a directory, tree is its tree's ID.
type nodeFuture struct {
	done chan struct{}
	node *Node
	tree id.ID
}

// child is an entry of a directory being built: a ready node or a future.
type entrySlot struct {
	node *Node
	res  *nodeFuture
}

// dirJob asks the tree saver to build a directory's tree.
type dirJob struct {
	node        *Node // the directory's node (nil for the root)
	children    []entrySlot
	dropIfEmpty bool // excluded directory walked for re-included entries
	res         *nodeFuture
}

func newCreator(ctx context.Context, cs ChunkStore, o *CreateOptions) *creator {
	ctx, cancel := context.WithCancelCause(ctx)
	c := &creator{
		ctx:    ctx,
		cancel: cancel,
		cs:     cs,
		o:      o,
		acct:   newAccounting(cs),
		ropts:  fsmeta.ReadOptions{NumericIDs: o.NumericIDs},
		files:  make(chan *fileJob, fileQueue),
		chunks: make(chan chunkJob, 2*o.Workers),
		bufs:   make(chan []byte, chunkBufs(o.Workers)),
		dirs:   make(chan *dirJob, dirQueue),
	}
	if o.hooks != nil {
		c.hooks = *o.hooks
	}
	for range chunkBufs(o.Workers) {
		c.bufs <- nil
	}
	c.maxTree = int(o.Chunker.Max)
	if c.maxTree <= 0 {
		c.maxTree = int(chunker.DefaultParams().Max)
	}
	c.perList = min(maxExtentsInline, max(1, c.maxTree/extentBytes))
	if c.maxTree <= maxPreallocChunk {
		c.bufCap = c.maxTree
	}
	return c
}

// chunkBufs is the number of chunk buffers of a run with the given
// number of workers: one per saver and one being filled by a reader (the
// savers, which compress, are slower than the readers).
func chunkBufs(workers int) int { return workers + 1 }

// run walks and stores everything and returns the root tree's ID.
func (c *creator) run(root *pathNode) (id.ID, error) {
	defer c.cancel(nil)
	var readers, savers, trees sync.WaitGroup
	for range c.o.Workers {
		savers.Go(c.saver)
	}
	// Twice as many readers as savers: a reader waiting for a chunk
	// buffer has already opened its file and asked the kernel to read
	// ahead (see readFile), so disk reads overlap with compression.
	for range 2 * c.o.Workers {
		readers.Go(c.reader)
	}
	trees.Go(c.treeSaver)
	stopProgress := c.startProgress()

	res, walkErr := c.walkRoot(root)
	if walkErr != nil {
		c.fail(walkErr)
	}
	close(c.files)
	close(c.dirs)
	readers.Wait()
	close(c.chunks)
	savers.Wait()
	trees.Wait()
	stopProgress()
	if err := context.Cause(c.ctx); err != nil {
		return id.ID{}, err
	}
	if res == nil {
		return id.ID{}, errors.New("internal error: no root tree")
	}
	<-res.done
	return res.tree, nil
}

// fail stops the run with err (the first error wins).
func (c *creator) fail(err error) { c.cancel(err) }

// wait returns the child's node once it is final; false if the run was
// stopped.
func (ch entrySlot) wait(ctx context.Context) (*Node, bool) {
	if ch.res == nil {
		return ch.node, true
	}
	select {
	case <-ch.res.done:
		return ch.res.node, true
	case <-ctx.Done():
		return nil, false
	}
}

// submitDir queues a directory for the tree saver and returns its future.
func (c *creator) submitDir(j *dirJob) *nodeFuture {
	j.res = &nodeFuture{done: make(chan struct{})}
	select {
	case c.dirs <- j:
	case <-c.ctx.Done():
	}
	return j.res
}

// treeSaver builds the directories' trees in the order they were
// submitted (children before parents).
func (c *creator) treeSaver() {
	for j := range c.dirs {
		if c.ctx.Err() != nil {
			continue
		}
		nodes := make([]Node, 0, len(j.children))
		stopped := false
		for _, ch := range j.children {
			n, ok := ch.wait(c.ctx)
			if !ok {
				stopped = true
				break
			}
			if n != nil {
				nodes = append(nodes, *n)
			}
		}
		if stopped {
			continue
		}
		if !(j.dropIfEmpty && len(nodes) == 0) {
			var tree id.ID
			if !c.o.DryRun {
				var err error
				if tree, err = SplitTree(nodes, c.maxTree, c.saveTree); err != nil {
					c.fail(fmt.Errorf("save tree: %w", err))
					continue
				}
			}
			j.res.tree = tree
			if j.node != nil {
				n := *j.node
				n.SetSubtree(tree)
				j.res.node = &n
				c.acct.dir()
			}
		}
		close(j.res.done)
	}
}

// saveTree stores a tree or extent-list blob.
func (c *creator) saveTree(data []byte) (id.ID, error) {
	b, isNew, err := c.cs.SaveBlob(c.ctx, id.TreeBlob, data)
	if err != nil {
		return id.ID{}, err
	}
	c.acct.tree(b, isNew)
	return b, nil
}

// getBuf takes a chunk buffer from the pool, waiting for one; false if the
// run was stopped. The buffer can hold a chunk of need bytes (need < 0:
// unknown, the largest chunk) without growing: a buffer that is too small
// is replaced by one of min(need, largest chunk) rounded up to a power of
// two, so a run of small files keeps small buffers and the buffers of a
// run with large files are allocated a few times at most.
func (c *creator) getBuf(need int64) ([]byte, bool) {
	select {
	case b := <-c.bufs:
		n := c.inUse.Add(1)
		if c.hooks.peakBufs != nil {
			for {
				p := c.hooks.peakBufs.Load()
				if n <= p || c.hooks.peakBufs.CompareAndSwap(p, n) {
					break
				}
			}
		}
		if c.bufCap > 0 {
			if need < 0 || need > int64(c.bufCap) {
				need = int64(c.bufCap)
			}
			if int64(cap(b)) < need {
				b = make([]byte, 0, min(c.bufCap, 1<<bits.Len64(uint64(need-1))))
			}
		}
		return b, true
	case <-c.ctx.Done():
		return nil, false
	}
}

// putBuf returns a chunk buffer to the pool.
func (c *creator) putBuf(b []byte) {
	c.inUse.Add(-1)
	c.bufs <- b[:0]
}

// warn reports a file left out.
func (c *creator) warn(path string, err error) {
	c.cbMu.Lock()
	defer c.cbMu.Unlock()
	c.nwarns++
	if len(c.warns) < maxRecordWarnings {
		c.warns = append(c.warns, fmt.Sprintf("%s: %v", path, err))
	}
	if c.o.Warn != nil {
		c.o.Warn(path, err)
	}
}

// warnings returns the warnings for the record.
func (c *creator) warnings() []string {
	c.cbMu.Lock()
	defer c.cbMu.Unlock()
	out := c.warns
	if c.nwarns > len(c.warns) {
		out = append(out, fmt.Sprintf("... and %d more warnings", c.nwarns-len(c.warns)))
	}
	return out
}

// list reports an entry's status.
func (c *creator) list(s Status, path string) {
	if c.o.List == nil {
		return
	}
	if c.o.DryRun && s != StatusExcluded && s != StatusSocket && s != StatusError {
		s = StatusDryRun
	}
	c.cbMu.Lock()
	defer c.cbMu.Unlock()
	c.o.List(s, path)
}

// setCurrent records the path being worked on, for progress.
func (c *creator) setCurrent(p string) {
	if c.o.Progress != nil {
		c.current.Store(&p)
	}
}

// startProgress calls o.Progress periodically until the returned function
// is called, which also makes the final call.
func (c *creator) startProgress() (stop func()) {
	if c.o.Progress == nil {
		return func() {}
	}
	interval := c.o.ProgressInterval
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	report := func() {
		p := c.acct.progress()
		if cur := c.current.Load(); cur != nil {
			p.Path = *cur
		}
		c.cbMu.Lock()
		c.o.Progress(p)
		c.cbMu.Unlock()
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				report()
			case <-quit:
				return
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		report()
	}
}
