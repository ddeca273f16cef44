package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
)

const (
	// segmentSize is how much of a file one worker writes at a time, so
	// several workers share a large file.
	segmentSize = 8 << 20
	// sparseBlock is the unit in which Sparse turns zeros into holes.
	sparseBlock = 4096
	// zeroChunk is the largest single write of zeros for a hole.
	zeroChunk = 1 << 20
)

// zeros is read-only: a source of zeros for holes and the reference for
// detecting all-zero blocks.
var zeros = make([]byte, zeroChunk)

// xFile is a regular file being restored.
type xFile struct {
	dir  *xDir
	name string
	path []byte // archive path
	node *Node
	f    *os.File

	remaining atomic.Int64 // segments not written yet

	mu       sync.Mutex
	loadErr  error // first piece of content that could not be loaded
	writeErr error // first write that failed
}

// fail records the first error of each kind.
func (fl *xFile) fail(load bool, err error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	switch {
	case load && fl.loadErr == nil:
		fl.loadErr = err
	case !load && fl.writeErr == nil:
		fl.writeErr = err
	}
}

// xSegment is a run of consecutive extents of a file, starting at off.
type xSegment struct {
	file *xFile
	off  uint64
	ext  []Extent
}

// file restores a regular file: a hard link to an earlier one, or a new
// file whose content is queued for the workers.
func (x *extractor) file(ctx context.Context, parent *xDir, name, dest string, p []byte, n *Node) error {
	var key inodeKey
	hardlinked := n.Nlink > 1 && n.Inode != 0
	if hardlinked {
		key = inodeKey{dev: n.Device, ino: n.Inode}
		if first, ok := x.links[key]; ok {
			if err := x.link(parent, name, first, dest); err != nil {
				x.warn(p, fmt.Errorf("hard link to %q: %w", first, err), &x.stats.Failed)
			} else {
				x.count(&x.stats.Hardlinks, 1)
				if len(n.Damaged) > 0 {
					x.warn(p, fmt.Errorf("%w: %s (hard link to %q)", ErrDamagedData, DamagedRanges(n.Damaged), first), &x.stats.Damaged)
				}
			}
			return nil
		}
	}
	if n.Size > math.MaxInt64 {
		x.warn(p, fmt.Errorf("%w: file size %d", ErrMalformed, n.Size), &x.stats.Failed)
		return nil
	}
	f, err := createFile(parent, name)
	if err != nil {
		x.warn(p, err, &x.stats.Failed)
		return nil
	}
	x.track(f)
	if hardlinked {
		x.links[key] = dest
	}
	fl := &xFile{dir: parent, name: name, path: p, node: n, f: f}
	parent.pending.Add(1)
	if err := f.Truncate(int64(n.Size)); err != nil {
		fl.fail(false, err)
	}
	ex, err := Extents(ctx, x.cs, n)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fl.fail(true, err)
		ex = nil
	}
	segs := segments(fl, ex)
	if len(segs) == 0 {
		x.finishFile(fl)
		return nil
	}
	fl.remaining.Store(int64(len(segs)))
	for _, s := range segs {
		select {
		case x.jobs <- s:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// segments splits a file's extents into runs of about segmentSize bytes.
func segments(fl *xFile, ex []Extent) []*xSegment {
	var out []*xSegment
	var off, size uint64
	start := 0
	for i, e := range ex {
		if i > start && size+e.Size > segmentSize {
			out = append(out, &xSegment{file: fl, off: off, ext: ex[start:i]})
			off += size
			start, size = i, 0
		}
		size += e.Size
	}
	if start < len(ex) {
		out = append(out, &xSegment{file: fl, off: off, ext: ex[start:]})
	}
	return out
}

// worker writes segments until the queue is closed.
func (x *extractor) worker(ctx context.Context) error {
	var buf []byte
	bl, batched := x.cs.(batchLoader)
	for s := range x.jobs {
		if err := ctx.Err(); err != nil {
			continue // drain; the walk stops too
		}
		segs := []*xSegment{s}
		if batched {
			segs = x.takeBatch(s)
			x.writeBatch(ctx, bl, segs)
		} else {
			buf = x.writeSegment(ctx, s, buf)
		}
		for _, t := range segs {
			if t.file.remaining.Add(-1) == 0 && ctx.Err() == nil {
				x.finishFile(t.file)
			}
		}
	}
	return ctx.Err()
}

// writeSegment loads and writes one segment, recording failures in its
// file. buf is a reusable blob buffer; the (possibly grown) buffer is
// returned.
func (x *extractor) writeSegment(ctx context.Context, s *xSegment, buf []byte) []byte {
	fl := s.file
	off := s.off
	var last id.ID
	have := false
	for _, e := range s.ext {
		if e.IsHole() {
			if !x.o.Sparse {
				if err := writeZeros(ctx, fl.f, off, e.Size); err != nil {
					fl.fail(false, err)
					return buf
				}
			}
			off += e.Size
			continue
		}
		b := e.BlobID()
		if !have || b != last {
			data, err := x.cs.LoadBlob(ctx, b, buf)
			if err != nil {
				if ctx.Err() != nil {
					return buf
				}
				fl.fail(true, fmt.Errorf("data at offset %d: %w", off, err))
				have = false
				off += e.Size
				continue
			}
			buf, last, have = data, b, true
		}
		if uint64(len(buf)) != e.Size {
			fl.fail(true, fmt.Errorf("data at offset %d: %w: blob %s has %d bytes, extent says %d", off, ErrMalformed, b.Short(), len(buf), e.Size))
			off += e.Size
			continue
		}
		var err error
		if x.o.Sparse {
			err = writeSparse(fl.f, buf, off)
		} else {
			_, err = fl.f.WriteAt(buf, int64(off))
		}
		if err != nil {
			fl.fail(false, err)
			return buf
		}
		off += e.Size
	}
	return buf
}

// writeZeros writes n zero bytes at off. The file is new (created
// exclusively, then truncated to its size), so the range reads as zeros
// already: it only has to be allocated, which fallocate does without
// copying zeros through the kernel; where the file system cannot, they
// are written.
func writeZeros(ctx context.Context, f *os.File, off, n uint64) error {
	if n == 0 {
		return nil
	}
	if err := allocate(f, off, n); err == nil {
		return nil
	} else if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return err
	}
	for n > 0 {
		if err := ctx.Err(); err != nil { // a huge hole must not outlive Ctrl-C
			return err
		}
		k := min(n, zeroChunk)
		if _, err := f.WriteAt(zeros[:k], int64(off)); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}

// allocate allocates n bytes of f at off (fallocate mode 0).
func allocate(f *os.File, off, n uint64) error {
	if off > math.MaxInt64 || n > math.MaxInt64-off {
		return unix.EINVAL
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Fallocate(int(fd), 0, int64(off), int64(n))
			if ferr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if ferr != nil {
		return &os.PathError{Op: "fallocate", Path: f.Name(), Err: ferr}
	}
	return nil
}

// writeSparse writes data at off except its all-zero sparseBlock-aligned
// blocks, which stay holes (the file was truncated to its full size).
func writeSparse(f *os.File, data []byte, off uint64) error {
	start := -1 // start of the pending run of non-zero blocks
	flush := func(end int) error {
		if start < 0 {
			return nil
		}
		_, err := f.WriteAt(data[start:end], int64(off)+int64(start))
		start = -1
		return err
	}
	for i := 0; i < len(data); {
		j := min(len(data), int((off+uint64(i))/sparseBlock+1)*sparseBlock-int(off))
		if bytes.Equal(data[i:j], zeros[:j-i]) {
			if err := flush(i); err != nil {
				return err
			}
		} else if start < 0 {
			start = i
		}
		i = j
	}
	return flush(len(data))
}

// finishFile closes a file whose content is written, applies its metadata,
// reports its problems, and releases its directory.
func (x *extractor) finishFile(fl *xFile) {
	n := fl.node
	switch {
	case fl.loadErr != nil && len(n.Damaged) > 0:
		x.warn(fl.path, errors.Join(fl.loadErr, ErrDamagedData), &x.stats.Damaged)
	case fl.loadErr != nil:
		x.warn(fl.path, fmt.Errorf("restored with zeros for what could not be loaded: %w", fl.loadErr), &x.stats.Damaged)
	case len(n.Damaged) > 0:
		x.warn(fl.path, fmt.Errorf("%w: %s", ErrDamagedData, DamagedRanges(n.Damaged)), &x.stats.Damaged)
	}
	if fl.writeErr != nil {
		x.warn(fl.path, fmt.Errorf("write: %w", fl.writeErr), &x.stats.Failed)
	}
	// Metadata goes to the descriptor written, never to whatever the
	// name leads to now: in a directory that existed before, someone else
	// may have replaced the name (with a hard link to a file elsewhere).
	if err := fsmeta.ApplyFile(fl.f, restoreMeta(n), x.apply); err != nil {
		x.warn(fl.path, err, &x.stats.Failed)
	}
	if err := x.closeFile(fl.f); err != nil {
		x.warn(fl.path, err, &x.stats.Failed)
	}
	x.mu.Lock()
	x.stats.Files++
	x.stats.Bytes += n.Size
	x.done.Files++
	x.done.Bytes += n.Size
	x.done.TotalBytes = x.total
	x.done.Path = fl.path
	if x.o.Progress != nil {
		x.o.Progress(x.done)
	}
	x.mu.Unlock()
	fl.dir.release(x)
}
