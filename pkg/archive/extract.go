package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/pattern"
)

// Errors reported through ExtractOptions.Warn.
var (
	// ErrUnsafePath is reported for an entry whose name could lead outside
	// the destination (empty, ".", "..", or containing '/' or NUL). Such an
	// entry is refused, never written.
	ErrUnsafePath = errors.New("refused: name could lead outside the destination")
	// ErrPathConflict is reported for an entry that would replace another
	// entry restored earlier by the same extraction (possible only with
	// StripComponents, which can map two archive paths to one), for
	// example a directory taking the place of a symlink. It is refused.
	ErrPathConflict = errors.New("refused: conflicts with an entry restored earlier")
	// ErrDamagedData is reported for a file whose node records byte ranges
	// lost to repository damage; they are restored as zeros.
	ErrDamagedData = errors.New("file has damaged ranges, restored as zeros")
	// ErrNotInArchive is reported for a path of ExtractOptions.Paths that
	// the archive does not have.
	ErrNotInArchive = errors.New("not found in the archive")
)

// ExtractOptions control Extract.
type ExtractOptions struct {
	// Destination is the directory to restore into ("" means the current
	// directory). It is created if missing. Nothing outside it is ever
	// written.
	Destination string
	// Paths restricts the extraction to these archive paths and what is
	// below them (see NewSelection); none means everything. A path the
	// archive lacks is reported (ErrNotInArchive) and counted in NotFound.
	Paths [][]byte
	// Exclude, if not nil, drops the archive paths it excludes (matched
	// before StripComponents is applied, as borg does).
	Exclude *pattern.Matcher
	// StripComponents drops this many leading path components; entries
	// with no more components than that are not restored themselves.
	StripComponents int
	// NumericIDs restores owners by uid/gid, ignoring user and group names.
	NumericIDs bool
	// Sparse restores holes as holes and turns all-zero blocks of data
	// into holes too; without it, holes are written as zeros.
	Sparse bool
	// DryRun walks the archive and calls List, writing nothing.
	DryRun bool
	// Workers is the number of goroutines writing file content (default
	// GOMAXPROCS).
	Workers int
	// List, if set, is called with the archive path of every entry
	// restored (before it is), in archive order.
	List func(path []byte)
	// Progress, if set, is called after each file is complete.
	Progress func(ExtractProgress)
	// Warn, if set, is called for every entry that is refused, damaged, or
	// could not be restored completely, with the entry's archive path and
	// why. The error wraps ErrUnsafePath, ErrPathConflict, ErrDamagedData,
	// the ChunkStore's error for data that could not be loaded, or the
	// system call's error.
	Warn func(path []byte, err error)
}

// ExtractProgress is the state of an extraction, passed to
// ExtractOptions.Progress.
type ExtractProgress struct {
	Files uint64 // files complete
	Bytes uint64 // their content
	// TotalBytes is the archive's original size when the whole archive is
	// restored, 0 when unknown.
	TotalBytes uint64
	Path       []byte // archive path of the file just completed
}

// ExtractStats count what Extract did. Damaged and Failed are warnings (the
// rest was restored); Refused and Unreadable are errors.
type ExtractStats struct {
	Files     uint64 // regular files written
	Dirs      uint64 // directories restored
	Symlinks  uint64
	Specials  uint64 // FIFOs and devices
	Hardlinks uint64 // extra links to files already restored
	Bytes     uint64 // content bytes of the files written
	// Damaged counts files whose data could not be loaded (or was lost
	// before); they are restored with zeros in place of the missing data.
	Damaged uint64
	// Failed counts entries that could not be created, or whose metadata
	// could not be set completely.
	Failed uint64
	// Refused counts entries refused as unsafe (ErrUnsafePath,
	// ErrPathConflict); nothing was written for them or below them.
	Refused uint64
	// Unreadable counts directories whose tree could not be loaded; their
	// content is missing.
	Unreadable uint64
	// NotFound counts paths of ExtractOptions.Paths the archive does not
	// have (ErrNotInArchive).
	NotFound uint64
}

// Warnings reports whether some entries were restored incompletely or
// some requested paths were not found.
func (s ExtractStats) Warnings() bool { return s.Damaged+s.Failed+s.NotFound > 0 }

// Errors reports whether some entries were refused or unreadable.
func (s ExtractStats) Errors() bool { return s.Refused+s.Unreadable > 0 }

// Extract restores the archive rec (or the parts of it o selects) into
// o.Destination.
//
// Safety: the destination is opened with os.OpenRoot, every directory is
// then opened relative to its parent with O_NOFOLLOW, and every entry is
// created by a single name in its directory (openat, mkdirat, symlinkat,
// mknodat with O_EXCL semantics), so neither a crafted name nor a symlink
// — restored by this archive or present before — is ever followed out of
// the destination or into another directory. An existing entry in the way
// is replaced (unlinked, never written through), except a directory where
// a directory is restored, which is reused. Entries that could escape are
// refused and reported (ErrUnsafePath, ErrPathConflict).
//
// Order: directories are created (mode 0700 while their content is
// written) as the archive is walked; file content is written by o.Workers
// goroutines, each blob loaded through cs (which verifies it) and written
// at its offset; symlinks, FIFOs and devices are created with fsmeta; hard
// links (files with Nlink > 1 and the same device and inode) become links
// to the first one restored. Metadata (owner, mode, xattrs and ACLs, then
// times) is applied to each entry once it is complete, and to a directory
// only after everything in it, so its times are the archive's. Owners are
// set only when the process runs as root (as tar and borg do); the blobs'
// IDs must be verified by cs (*repo.Repo does).
//
// Per-entry problems are reported through o.Warn, counted in the returned
// stats, and do not stop the extraction. Extract returns an error only
// when it cannot go on: the destination cannot be opened, the root tree
// cannot be loaded, or ctx is canceled (the stats then count what was
// done). Extract is safe to call concurrently for different destinations.
func Extract(ctx context.Context, cs ChunkStore, rec *Record, o ExtractOptions) (ExtractStats, error) {
	if rec == nil {
		return ExtractStats{}, fmt.Errorf("extract: %w", os.ErrInvalid)
	}
	if o.StripComponents < 0 {
		return ExtractStats{}, fmt.Errorf("extract: strip components %d is negative", o.StripComponents)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Destination == "" {
		o.Destination = "."
	}
	x := &extractor{
		cs:  cs,
		o:   o,
		sel: NewSelection(o.Paths),
		apply: fsmeta.ApplyOptions{
			NumericIDs: o.NumericIDs,
			NoOwner:    os.Geteuid() != 0,
		},
		links: map[inodeKey]string{},
		open:  map[*os.File]struct{}{},
	}
	if x.sel.All() && (o.Exclude == nil || o.Exclude.Empty()) {
		x.total = rec.Stats.OriginalSize
	}
	if o.StripComponents > 0 {
		x.restored = map[string]NodeType{}
	}
	x.found = make([]bool, len(x.sel.paths))
	var st ExtractStats
	var err error
	if o.DryRun {
		err = x.dryRun(ctx, rec.TreeID())
		st = x.stats
	} else {
		st, err = x.run(ctx, rec.TreeID())
	}
	if err == nil {
		for i, p := range x.sel.paths {
			if !x.found[i] {
				x.warn(p, ErrNotInArchive, &st.NotFound)
			}
		}
	}
	return st, err
}

// inodeKey identifies a file of the backed-up system, for hard links.
type inodeKey struct{ dev, ino uint64 }

// extractor is the state of one Extract call.
type extractor struct {
	cs    ChunkStore
	o     ExtractOptions
	sel   Selection
	apply fsmeta.ApplyOptions
	total uint64
	root  *os.Root
	jobs  chan *xSegment

	// Only the walking goroutine uses links and restored.
	links    map[inodeKey]string // first restored path of each hard-linked inode
	restored map[string]NodeType // with StripComponents: what each path holds
	found    []bool              // which of sel's paths the archive has

	mu    sync.Mutex // guards stats, open and the callbacks
	stats ExtractStats
	done  ExtractProgress
	open  map[*os.File]struct{} // descriptors to close if the extraction stops early
}

// warn reports a problem with path and counts it in *counter.
func (x *extractor) warn(path []byte, err error, counter *uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	*counter++
	if x.o.Warn != nil {
		x.o.Warn(path, err)
	}
}

// count adds to a statistic.
func (x *extractor) count(counter *uint64, n uint64) {
	x.mu.Lock()
	*counter += n
	x.mu.Unlock()
}

// list reports an entry about to be restored.
func (x *extractor) list(path []byte) {
	if x.o.List == nil {
		return
	}
	x.mu.Lock()
	x.o.List(path)
	x.mu.Unlock()
}

// track remembers an open descriptor so that an early stop can close it.
func (x *extractor) track(f *os.File) {
	x.mu.Lock()
	x.open[f] = struct{}{}
	x.mu.Unlock()
}

// closeFile closes a tracked descriptor.
func (x *extractor) closeFile(f *os.File) error {
	x.mu.Lock()
	delete(x.open, f)
	x.mu.Unlock()
	return f.Close()
}

// closeAll closes every descriptor still open.
func (x *extractor) closeAll() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for f := range x.open {
		_ = f.Close()
		delete(x.open, f)
	}
}
