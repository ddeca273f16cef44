package archive

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/pattern"
)

// ExportTarOptions control ExportTar.
type ExportTarOptions struct {
	// Paths restricts the export to these archive paths and what is
	// below them (see NewSelection); none means everything. A path the
	// archive lacks is reported (ErrNotInArchive) and counted in NotFound.
	Paths [][]byte
	// Exclude, if not nil, drops the archive paths it excludes (matched
	// before StripComponents is applied, as in Extract).
	Exclude *pattern.Matcher
	// StripComponents drops this many leading path components from the
	// names in the tar stream; entries with no more components than that
	// are not exported themselves.
	StripComponents int
	// Workers is the number of goroutines loading file content ahead of
	// the writer (default GOMAXPROCS).
	Workers int
	// List, if set, is called with the archive path of every entry just
	// before its header is written, in stream order.
	List func(path []byte)
	// Warn, if set, is called for every entry that is refused, damaged,
	// or could not be exported completely, with the entry's archive path
	// and why. The error wraps ErrUnsafePath, ErrPathConflict,
	// ErrDamagedData, ErrLostListing, ErrNotInArchive, ErrMalformed, or
	// the ChunkStore's error for data that could not be loaded.
	Warn func(path []byte, err error)
}

// ExportTarStats count what ExportTar wrote, as ExtractStats count what
// Extract restored: Damaged, Failed and NotFound are warnings (everything
// else was written); Refused and Unreadable are errors (entries missing
// from the stream). Failed also counts entries with a header or an xattr
// name tar cannot encode, and entries whose extended attributes were left
// out because the PAX header would exceed archive/tar's 1 MiB limit.
type ExportTarStats = ExtractStats

// ExportTar writes the archive rec (or the parts of it o selects) to w as
// a POSIX.1-2001 (PAX) tar stream, ending with the end-of-archive blocks;
// it does not close w.
//
// Entries come in archive order (depth-first, names sorted), each
// directory before its content, named by their archive path after
// StripComponents (directories with a trailing '/'). Headers carry the
// mode (permissions with setuid, setgid and sticky bits), uid and gid,
// user and group names, mtime, atime and ctime with nanoseconds, and every
// extended attribute (POSIX ACLs included, as system.posix_acl_*) as a
// SCHILY.xattr.NAME record. Symlinks, FIFOs and character and block
// devices get their own entry types; a file hard-linked to one exported
// earlier (same device and inode, Nlink > 1) is written as a link to that
// entry's name. Holes are written as zeros: archive/tar writes no sparse
// entries, so the stream has each file's full size. Files whose data is
// damaged in the repository are written with zeros in place of what was
// lost and reported through o.Warn. Directories not selected but on the
// way to selected paths are not written (tar creates them on extraction).
//
// Content is loaded by o.Workers goroutines a few megabytes ahead of the
// writer, in bounded batches, so memory does not grow with file size; the
// stream itself is written by one goroutine, in order. Blob IDs must be
// verified by cs (*repo.Repo does).
//
// Per-entry problems are reported through o.Warn, counted in the returned
// stats, and do not stop the export. ExportTar returns an error only when
// it cannot go on: the root tree cannot be loaded, writing to w fails, or
// ctx is canceled; the stream is then incomplete. ExportTar is safe to
// call concurrently with different writers.
func ExportTar(ctx context.Context, cs ChunkStore, rec *Record, w io.Writer, o ExportTarOptions) (ExportTarStats, error) {
	if rec == nil || w == nil {
		return ExportTarStats{}, fmt.Errorf("export tar: %w", os.ErrInvalid)
	}
	if o.StripComponents < 0 {
		return ExportTarStats{}, fmt.Errorf("export tar: strip components %d is negative", o.StripComponents)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	t := &tarExporter{
		cs:    cs,
		o:     o,
		sel:   NewSelection(o.Paths),
		links: map[inodeKey]string{},
	}
	if o.StripComponents > 0 {
		t.written = map[string]NodeType{}
	}
	t.found = make([]bool, len(t.sel.paths))
	ew := &errWriter{w: w}
	t.tw = tar.NewWriter(ew)
	t.out = ew
	err := t.run(ctx, rec.TreeID())
	if err == nil {
		for i, p := range t.sel.paths {
			if !t.found[i] {
				t.warn(p, ErrNotInArchive, &t.stats.NotFound)
			}
		}
	}
	t.mu.Lock()
	st := t.stats
	t.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return st, fmt.Errorf("export tar: %w", context.Cause(ctx))
		}
		return st, fmt.Errorf("export tar: %w", err)
	}
	return st, nil
}

// errWriter remembers the first error of the underlying writer, which
// tells a failed write apart from a header archive/tar refuses to encode
// (after which the tar.Writer is still usable).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// tarExporter is the state of one ExportTar call.
type tarExporter struct {
	cs  ChunkStore
	o   ExportTarOptions
	sel Selection
	tw  *tar.Writer
	out *errWriter

	// Only the walking goroutine uses these.
	links   map[inodeKey]string // tar name of the first file of each hard-linked inode
	written map[string]NodeType // with StripComponents: what each tar name holds
	found   []bool              // which of sel's paths the archive has

	mu    sync.Mutex // guards stats and the callbacks
	stats ExportTarStats
}

// warn reports a problem with path and counts it in *counter.
func (t *tarExporter) warn(path []byte, err error, counter *uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	*counter++
	if t.o.Warn != nil {
		t.o.Warn(path, err)
	}
}

// count adds to a statistic.
func (t *tarExporter) count(counter *uint64, n uint64) {
	t.mu.Lock()
	*counter += n
	t.mu.Unlock()
}

// run walks the archive in this goroutine's errgroup, loads content with
// the workers and writes the stream.
func (t *tarExporter) run(ctx context.Context, tree id.ID) error {
	g, gctx := errgroup.WithContext(ctx)
	depth := t.o.Workers + 1
	order := make(chan *tBatch, depth) // every batch, in stream order
	work := make(chan *tBatch, depth)  // batches with content to load
	g.Go(func() error {
		q := &tQueue{ctx: gctx, order: order, work: work}
		err := t.walk(gctx, tree, q)
		if err == nil {
			err = q.flush()
		}
		close(order)
		close(work)
		return err
	})
	for range t.o.Workers {
		g.Go(func() error {
			for b := range work {
				t.load(gctx, b)
				close(b.done)
			}
			return nil
		})
	}
	g.Go(func() error { return t.write(gctx, order) })
	if err := g.Wait(); err != nil {
		return err // no end-of-archive blocks: the stream shows it is cut short
	}
	return t.tw.Close()
}

// walk visits the archive, queueing each selected entry.
func (t *tarExporter) walk(ctx context.Context, tree id.ID, q *tQueue) error {
	w := &treeWalker{ctx: ctx, cs: t.cs, ancestors: map[id.ID]bool{}}
	w.treeErr = func(p []byte, err error) error {
		t.warn(p, err, &t.stats.Unreadable)
		return nil
	}
	return w.walk(tree, nil, func(p []byte, n *Node) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return t.entry(ctx, q, p, n)
	}, nil)
}

// entry queues the node n at archive path p. It returns SkipDir to skip a
// directory's content, another error only to stop the export.
func (t *tarExporter) entry(ctx context.Context, q *tQueue, p []byte, n *Node) error {
	sel, descend := t.sel.Match(p)
	for i, sp := range t.sel.paths {
		if !t.found[i] && bytes.Equal(p, sp) {
			t.found[i] = true
		}
	}
	if (sel || descend) && t.o.Exclude != nil {
		if excluded, recurse := t.o.Exclude.Excluded(string(p)); excluded {
			sel, descend = false, descend && recurse
		}
	}
	if !sel && !(n.Type == TypeDir && descend) {
		return skip(n)
	}
	if !safeName(n.Name) {
		t.warn(p, fmt.Errorf("%w: %q", ErrUnsafePath, n.Name), &t.stats.Refused)
		return skip(n)
	}
	name, stripped := stripPath(p, t.o.StripComponents)
	if stripped {
		return nil // a directory's content is still visited
	}
	if t.written != nil {
		// Stripping can map two archive paths to one name: a tar whose
		// later entry replaces an earlier one (a directory through a
		// symlink, say) is refused, as Extract does.
		if prev, ok := t.written[name]; ok && (prev != TypeDir || n.Type != TypeDir) {
			t.warn(p, fmt.Errorf("%w: %s %q is already exported there as a %s", ErrPathConflict, n.Type, name, prev), &t.stats.Refused)
			return skip(n)
		}
		t.written[name] = n.Type
	}
	if !sel {
		return nil // walked through for what is selected below it
	}
	return t.queueEntry(ctx, q, p, name, n)
}

// skip is what the walk function returns to leave out n: SkipDir skips a
// directory's content, but for another node it would skip its siblings.
func skip(n *Node) error {
	if n.Type == TypeDir {
		return SkipDir
	}
	return nil
}

// stripPath drops n leading components of p; stripped is true if nothing
// remains.
func stripPath(p []byte, n int) (name string, stripped bool) {
	for range n {
		i := bytes.IndexByte(p, '/')
		if i < 0 {
			return "", true
		}
		p = p[i+1:]
	}
	return string(p), false
}

// queueEntry builds the header of a selected node and queues it, with a
// file's content.
func (t *tarExporter) queueEntry(ctx context.Context, q *tQueue, p []byte, name string, n *Node) error {
	hdr, err := t.header(p, name, n)
	if err == nil {
		err = t.fitHeader(p, hdr)
	}
	if err != nil {
		t.warn(p, err, &t.stats.Failed)
		return skip(n)
	}
	if hdr.Typeflag == tar.TypeReg && n.Nlink > 1 && n.Inode != 0 {
		// Later members of the hard-link group link to this entry. Only
		// now that its header is known to be writable (fitHeader): a
		// member left out must not become a link target, or the next one
		// would be a link to a name the stream lacks and its data lost.
		t.links[inodeKey{dev: n.Device, ino: n.Inode}] = name
	}
	it := &tItem{path: p, hdr: hdr, node: n}
	switch n.Type {
	case TypeDir:
		it.counter = &t.stats.Dirs
		if len(n.Damaged) > 0 {
			t.warn(p, ErrLostListing, &t.stats.Damaged)
		}
	case TypeSymlink:
		it.counter = &t.stats.Symlinks
	case TypeFIFO, TypeCharDev, TypeBlockDev:
		it.counter = &t.stats.Specials
	case TypeFile:
		if hdr.Typeflag == tar.TypeLink {
			it.counter = &t.stats.Hardlinks
			if len(n.Damaged) > 0 {
				t.warn(p, fmt.Errorf("%w: %s (hard link to %q)", ErrDamagedData, DamagedRanges(n.Damaged), hdr.Linkname), &t.stats.Damaged)
			}
			break
		}
		return t.queueFile(ctx, q, it)
	}
	return q.add(it, 0)
}

// header returns the tar header of node n named name in the stream.
func (t *tarExporter) header(p []byte, name string, n *Node) (*tar.Header, error) {
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(n.Mode & 0o7777),
		Uid:     int(n.UID),
		Gid:     int(n.GID),
		Uname:   string(n.User),
		Gname:   string(n.Group),
		ModTime: time.Unix(0, n.Mtime),
		Format:  tar.FormatPAX,
	}
	if n.Atime != 0 { // 0: not recorded
		hdr.AccessTime = time.Unix(0, n.Atime)
	}
	if n.Ctime != 0 {
		hdr.ChangeTime = time.Unix(0, n.Ctime)
	}
	for _, x := range n.Xattrs {
		k := string(x.Name)
		if k == "" || strings.ContainsAny(k, "=\x00") {
			t.warn(p, fmt.Errorf("xattr %q: cannot be named in a tar stream; left out", k), &t.stats.Failed)
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+k] = string(x.Value)
	}
	switch n.Type {
	case TypeDir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case TypeFile:
		if n.Size > math.MaxInt64 {
			return nil, fmt.Errorf("%w: file size %d", ErrMalformed, n.Size)
		}
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(n.Size)
		if n.Nlink > 1 && n.Inode != 0 {
			key := inodeKey{dev: n.Device, ino: n.Inode}
			if first, ok := t.links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} // else queueEntry records it, once its header is checked
		}
	case TypeSymlink:
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = string(n.LinkTarget)
	case TypeFIFO:
		hdr.Typeflag = tar.TypeFifo
	case TypeCharDev, TypeBlockDev:
		hdr.Typeflag = tar.TypeChar
		if n.Type == TypeBlockDev {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor = int64(unix.Major(n.Rdev))
		hdr.Devminor = int64(unix.Minor(n.Rdev))
	default:
		return nil, fmt.Errorf("%w: unknown node type %s", ErrMalformed, n.Type)
	}
	return hdr, nil
}

// paxLimit is archive/tar's limit on the size of an entry's PAX records
// (maxSpecialFileSize): beyond it WriteHeader fails with ErrFieldTooLong.
const paxLimit = 1 << 20

// fitHeader checks that archive/tar can write hdr, by writing it to a
// throwaway tar.Writer (cheap: no content is written). The stream's
// tar.Writer must never see a header it refuses: ErrFieldTooLong (PAX
// records over 1 MiB) and a bad PAX record leave it failed for good, so
// one entry would end the whole export; and a header refused at write
// time could already be the target of later hard links. When the PAX
// records are too long, hdr's extended attributes are left out, largest
// first, until it fits (one warning for p, counted in Failed). fitHeader
// returns an error wrapping ErrMalformed if hdr still cannot be written:
// the entry is then left out.
func (t *tarExporter) fitHeader(p []byte, hdr *tar.Header) error {
	err := tar.NewWriter(io.Discard).WriteHeader(hdr)
	if errors.Is(err, tar.ErrFieldTooLong) {
		if dropped := dropXattrs(hdr); len(dropped) > 0 {
			t.warn(p, fmt.Errorf("%w: PAX header over %d bytes: extended attributes %q left out", ErrMalformed, paxLimit, dropped), &t.stats.Failed)
			err = tar.NewWriter(io.Discard).WriteHeader(hdr)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// dropXattrs removes hdr's SCHILY.xattr records, largest first, until the
// PAX records fit paxLimit, and returns the names it removed. It counts
// each record as archive/tar encodes it ("%d %s=%s\n") and the other
// records (path, linkpath, names, times, ids) at an upper bound; if those
// alone are too long, dropping attributes cannot help and it drops none.
func dropXattrs(hdr *tar.Header) []string {
	others := 0
	for _, s := range []string{hdr.Name, hdr.Linkname, hdr.Uname, hdr.Gname} {
		others += paxRecordLen("linkpath", s)
	}
	others += 8 * 64 // mtime, atime, ctime, uid, gid, size...: short numbers
	var keys []string
	total := others
	for k, v := range hdr.PAXRecords {
		if strings.HasPrefix(k, "SCHILY.xattr.") {
			keys = append(keys, k)
		}
		total += paxRecordLen(k, v)
	}
	if total <= paxLimit || others > paxLimit {
		return nil
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(paxRecordLen(b, hdr.PAXRecords[b]), paxRecordLen(a, hdr.PAXRecords[a])), strings.Compare(a, b))
	})
	var dropped []string
	for _, k := range keys {
		if total <= paxLimit {
			break
		}
		total -= paxRecordLen(k, hdr.PAXRecords[k])
		delete(hdr.PAXRecords, k)
		dropped = append(dropped, strings.TrimPrefix(k, "SCHILY.xattr."))
	}
	return dropped
}

// paxRecordLen is the length of the PAX record "%d %s=%s\n" for k and v,
// the length field included.
func paxRecordLen(k, v string) int {
	n := len(k) + len(v) + 3 // ' ', '=', '\n'
	n += len(strconv.Itoa(n))
	if m := len(k) + len(v) + 3 + len(strconv.Itoa(n)); m > n { // the length field grew a digit
		n = m
	}
	return n
}
