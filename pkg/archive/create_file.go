package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
)

// fileJob is a regular file (or standard input) to read. Its chunks are
// saved by several savers at once; refs counts the outstanding chunks plus
// one for the reader, and whoever drops it to zero finishes the file.
type fileJob struct {
	res     *nodeFuture
	fsPath  string // for opening and messages
	name    []byte
	stdin   io.Reader // read this instead of fsPath
	status  Status    // A, M or i
	stdNode Node      // the node of standard input

	refs atomic.Int64

	mu      sync.Mutex
	ext     []Extent
	node    Node  // from fstat
	failed  error // the file is left out
	changed bool  // it changed while being read
}

// chunkJob is one chunk for a saver to store in slot idx of job.ext.
type chunkJob struct {
	job  *fileJob
	idx  int
	data []byte
}

// submitFile queues a file for the readers and returns its future.
func (c *creator) submitFile(j *fileJob) *nodeFuture {
	j.res = &nodeFuture{done: make(chan struct{})}
	j.refs.Store(1)
	select {
	case c.files <- j:
	case <-c.ctx.Done():
	}
	return j.res
}

// reader reads queued files.
func (c *creator) reader() {
	chk := chunker.New(nil, c.o.Polynomial, c.o.Chunker)
	for j := range c.files {
		if c.ctx.Err() != nil {
			continue
		}
		if j.stdin != nil {
			c.readStdin(j, chk)
		} else {
			c.readFile(j, chk)
		}
		c.release(j)
	}
}

// saver stores chunks.
func (c *creator) saver() {
	for cj := range c.chunks {
		if c.ctx.Err() == nil {
			b, isNew, err := c.cs.SaveBlob(c.ctx, id.DataBlob, cj.data)
			if err != nil {
				c.fail(fmt.Errorf("save chunk of %s: %w", cj.job.fsPath, err))
			} else {
				c.acct.chunk(b, isNew, len(cj.data))
				cj.job.mu.Lock()
				cj.job.ext[cj.idx].ID = append([]byte(nil), b[:]...)
				cj.job.mu.Unlock()
			}
		}
		c.putBuf(cj.data)
		c.release(cj.job)
	}
}

// release drops one reference to j and finishes it after the last.
func (c *creator) release(j *fileJob) {
	if j.refs.Add(-1) == 0 && c.ctx.Err() == nil {
		c.finish(j)
	}
}

// openNoFollow opens a regular file for reading without following a
// symlink, without blocking on a FIFO swapped in, and without updating its
// access time where the caller may ask for that.
func openNoFollow(path string) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	fd, err := openRetry(path, flags|unix.O_NOATIME)
	if err == unix.EPERM { // O_NOATIME needs ownership (or CAP_FOWNER)
		fd, err = openRetry(path, flags)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openRetry is open(2), retried on EINTR.
func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readFile reads a regular file from disk: its metadata from the open
// descriptor, then its data regions (holes are recorded, not read).
func (c *creator) readFile(j *fileJob, chk *chunker.Chunker) {
	c.setCurrent(j.fsPath)
	if c.hooks.beforeOpen != nil {
		c.hooks.beforeOpen(j.fsPath)
	}
	open := openNoFollow
	if c.hooks.open != nil {
		open = c.hooks.open
	}
	f, err := open(j.fsPath)
	if err != nil {
		j.failed = err
		return
	}
	defer f.Close()
	m, err := fsmeta.Fstat(f, c.ropts)
	if err != nil {
		j.failed = err
		return
	}
	if m.Type != fsmeta.Regular {
		j.failed = fmt.Errorf("became a %s while being backed up", m.Type)
		return
	}
	j.node = nodeFromMeta(j.name, m)
	size := m.Size
	adviseRead(f, size)
	lastHole := false
	for off := int64(0); off < size; {
		start, end, err := fsmeta.NextData(f, off, size)
		if err != nil {
			j.failed = err
			return
		}
		shrunk := false
		if start >= size {
			// No data up to the end: a trailing hole, or the file was
			// truncated meanwhile (SEEK_DATA cannot tell). Record only
			// the hole that is still there.
			if cur, err := fsmeta.Fstat(f, fsmeta.ReadOptions{NumericIDs: true, NoXattrs: true}); err == nil && cur.Size < size {
				start, shrunk = max(off, cur.Size), true
			}
		}
		var trail int64
		if start < size && (start > off || end < size) {
			// Zeros at the edges of a data region next to a hole are
			// recorded as part of the hole: holes are block-aligned, so
			// content that moved by a few bytes would otherwise start
			// with a different run of zeros and chunk differently.
			lead, tr := zeroEdges(f, start, end, start > off, end < size)
			start, trail = start+lead, tr
		}
		if start > off {
			j.addHole(uint64(start-off), lastHole)
			lastHole = true
		}
		if shrunk {
			j.changed = true
			break
		}
		if start >= size {
			break
		}
		if start < end-trail {
			n, err := c.chunkStream(j, chk, io.NewSectionReader(f, start, end-trail-start), end-trail-start)
			if err != nil {
				j.failed = err
				return
			}
			if n < end-trail-start { // the file shrank while being read
				j.changed = true
				break
			}
			lastHole = false
		}
		if trail > 0 {
			j.addHole(uint64(trail), lastHole)
			lastHole = true
		}
		off = end
	}
	if after, err := fsmeta.Fstat(f, fsmeta.ReadOptions{NumericIDs: true, NoXattrs: true}); err == nil &&
		(after.Size != m.Size || after.Mtime != m.Mtime || after.Ctime != m.Ctime) {
		j.changed = true
	}
}

// zeroEdgeMax bounds the zeros trimmed at each edge of a data region: a
// hole's partial block.
const zeroEdgeMax = 4096

// zeroEdges returns how many bytes at the start (if head) and at the end
// (if tail) of the data region [start, end) of f are zeros, up to
// zeroEdgeMax each, and never more than the region in total. Read errors
// count as no zeros (the region is then read as usual).
func zeroEdges(f io.ReaderAt, start, end int64, head, tail bool) (lead, trail int64) {
	var buf [zeroEdgeMax]byte
	if head {
		n, _ := f.ReadAt(buf[:min(int64(len(buf)), end-start)], start)
		for lead < int64(n) && buf[lead] == 0 {
			lead++
		}
	}
	if tail && start+lead < end {
		k := min(int64(len(buf)), end-start-lead)
		n, err := f.ReadAt(buf[:k], end-k)
		if err == nil && int64(n) == k {
			for trail < k && buf[k-1-trail] == 0 {
				trail++
			}
		}
	}
	return lead, trail
}

// addHole appends a hole of n bytes to the job's extents, or, if join,
// adds it to the last extent, which the caller knows is a hole (a data
// extent whose blob is not saved yet also has no ID, so IsHole cannot
// tell).
func (j *fileJob) addHole(n uint64, join bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if k := len(j.ext); join && k > 0 {
		j.ext[k-1].Size += n
		return
	}
	j.ext = append(j.ext, HoleExtent(n))
}

// readAhead is how much of a file a reader asks the kernel to read ahead
// as soon as it has opened it, before it may wait for a chunk buffer.
const readAhead = 4 << 20

// minAdvise is the smallest file adviseRead advises on: for small files
// the two extra system calls cost more than they save (a small file is
// read with one read anyway).
const minAdvise = 1 << 20

// adviseRead tells the kernel that f will be read sequentially from the
// start, and to start reading its first readAhead bytes now, so that the
// disk works while the reader waits for a buffer (a backup from a cold
// page cache is otherwise one disk read at a time per reader). Errors are
// ignored: it is only advice.
func adviseRead(f *os.File, size int64) {
	if size < minAdvise {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.Fadvise(int(fd), 0, 0, unix.FADV_SEQUENTIAL)
		_ = unix.Fadvise(int(fd), 0, min(size, readAhead), unix.FADV_WILLNEED)
	})
}

// readStdin reads standard input into one file. A Read of standard input
// that blocks cannot be interrupted, so it happens on a goroutine of its
// own: when the run is stopped, readStdin returns at once and that
// goroutine ends when its Read does.
func (c *creator) readStdin(j *fileJob, chk *chunker.Chunker) {
	c.setCurrent(j.fsPath)
	j.node = j.stdNode
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, j.stdin)
		pw.CloseWithError(err)
	}()
	stop := context.AfterFunc(c.ctx, func() { pr.CloseWithError(context.Cause(c.ctx)) })
	defer stop()
	_, err := c.chunkStream(j, chk, pr, -1)
	pr.Close()
	if err != nil {
		j.failed = err
	}
}

// countingReader counts what is read through it.
type countingReader struct {
	r    io.Reader
	n    int64
	acct *accounting
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	r.acct.read.Add(uint64(n))
	return n, err
}

// chunkStream chunks r into j's extents and hands the chunks to the
// savers. It returns the number of bytes read. size is how much r holds
// (-1: unknown), which bounds the chunk buffers it needs.
func (c *creator) chunkStream(j *fileJob, chk *chunker.Chunker, r io.Reader, size int64) (int64, error) {
	cr := &countingReader{r: r, acct: c.acct}
	chk.Reset(cr)
	for {
		buf, ok := c.getBuf(size - cr.n)
		if !ok {
			return cr.n, c.ctx.Err()
		}
		data, err := chk.Next(buf)
		if err != nil {
			c.putBuf(buf)
			if errors.Is(err, io.EOF) {
				return cr.n, nil
			}
			return cr.n, err
		}
		j.mu.Lock()
		idx := len(j.ext)
		j.ext = append(j.ext, Extent{Size: uint64(len(data))})
		j.mu.Unlock()
		j.refs.Add(1)
		c.chunks <- chunkJob{job: j, idx: idx, data: data} // never blocks: a buffer is a place in the queue
	}
}

// finish turns a read file into its node (or leaves it out) and
// completes its future.
func (c *creator) finish(j *fileJob) {
	defer close(j.res.done)
	if j.failed != nil {
		c.warn(j.fsPath, j.failed)
		c.list(StatusError, j.fsPath)
		return
	}
	n := j.node
	n.Size = 0
	for _, e := range j.ext {
		n.Size += e.Size
	}
	if len(j.ext) > c.perList {
		for i := 0; i < len(j.ext); i += c.perList {
			data, err := EncodeExtentList(j.ext[i:min(i+c.perList, len(j.ext))])
			if err != nil {
				c.fail(fmt.Errorf("%s: encode extent list: %w", j.fsPath, err))
				return
			}
			b, err := c.saveTree(data)
			if err != nil {
				c.fail(fmt.Errorf("%s: save extent list: %w", j.fsPath, err))
				return
			}
			n.ContentParts = append(n.ContentParts, append([]byte(nil), b[:]...))
		}
	} else {
		n.Content = j.ext
	}
	j.ext = nil
	c.acct.file(n.Size)
	j.res.node = &n
	switch {
	case j.changed:
		c.list(StatusChanged, j.fsPath)
	default:
		c.list(j.status, j.fsPath)
	}
}

// nodeFromMeta returns the node of an entry with metadata m.
func nodeFromMeta(name []byte, m *fsmeta.Meta) Node {
	n := Node{
		Name:       name,
		Type:       NodeType(m.Type),
		Mode:       m.Mode,
		UID:        m.UID,
		GID:        m.GID,
		Mtime:      m.Mtime,
		Atime:      m.Atime,
		Ctime:      m.Ctime,
		Inode:      m.Inode,
		Device:     m.Device,
		Nlink:      m.Nlink,
		Rdev:       m.Rdev,
		LinkTarget: m.LinkTarget,
	}
	if m.User != "" {
		n.User = []byte(m.User)
	}
	if m.Group != "" {
		n.Group = []byte(m.Group)
	}
	if m.Type == fsmeta.Regular {
		n.Size = uint64(m.Size)
	}
	for _, x := range m.Xattrs {
		n.Xattrs = append(n.Xattrs, Xattr{Name: []byte(x.Name), Value: x.Value})
	}
	return n
}
