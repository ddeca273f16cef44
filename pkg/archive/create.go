package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/id"
)

// Errors of Create.
var (
	// ErrArchiveExists is returned when the repository already has an
	// archive with the requested name.
	ErrArchiveExists = errors.New("archive already exists")
	// ErrNoPaths is returned when none of the paths to back up exists (or
	// none was given and there is no standard input to read).
	ErrNoPaths = errors.New("nothing to back up")
	// ErrBadPath is returned for a path that cannot be stored, such as a
	// relative path leading out of the current directory ("../x"), or two
	// paths that would occupy the same name in the archive.
	ErrBadPath = errors.New("bad path")
)

// Excluder decides which paths Create leaves out. It is given the path as
// stored in the archive: the absolute path without its leading '/', or a
// relative path as given (cleaned). excluded leaves the entry out; for a
// directory, recurse still walks into it (so that entries inside can be
// included again), and the directory itself is then stored only if
// something inside it is. *pattern.Matcher implements it. It is called
// from one goroutine.
type Excluder interface {
	Excluded(path string) (excluded, recurse bool)
}

// Status is the one-letter state Create reports for each entry through
// CreateOptions.List, as borg create --list prints it.
type Status byte

// Statuses, as borg's.
const (
	StatusAdded     Status = 'A' // regular file, no entry in the parent archive, read
	StatusModified  Status = 'M' // regular file, changed since the parent archive, read
	StatusUnchanged Status = 'U' // regular file, unchanged: content taken from the parent archive
	StatusChanged   Status = 'C' // regular file that changed while it was read
	StatusError     Status = 'E' // an error occurred: left out (see Warn)
	StatusDir       Status = 'd'
	StatusSymlink   Status = 's'
	StatusFIFO      Status = 'f'
	StatusCharDev   Status = 'c'
	StatusBlockDev  Status = 'b'
	StatusStdin     Status = 'i' // the file read from standard input
	StatusExcluded  Status = 'x' // left out by an exclusion
	StatusSocket    Status = 'S' // a socket: never stored
	StatusDryRun    Status = '-' // dry run: would be backed up
)

// Progress is a snapshot of a running Create.
type Progress struct {
	Files        uint64 // regular files done
	OriginalSize uint64 // their sizes
	ReadBytes    uint64 // file content read so far
	WrittenBytes uint64 // plaintext size of the chunks stored new so far
	Path         string // the path being worked on
}

// CreateOptions configure Create.
type CreateOptions struct {
	// Name is the archive's name; it must not exist in the repository.
	Name string
	// Paths are the files and directories to back up. An absolute path is
	// stored without its leading '/', with the directories above it as
	// entries on the way (so "/var/lib/pg" is "var" > "lib" > "pg"); a
	// relative path is stored as given, cleaned, and must not start with
	// "..".
	Paths []string
	// Stdin, if not nil, is read into one regular file named StdinName
	// (default "stdin") at the archive's root.
	Stdin     io.Reader
	StdinName string

	// Exclude leaves out matching paths (nil: nothing).
	Exclude Excluder
	// ExcludeCaches leaves out directories holding a CACHEDIR.TAG file
	// that starts with the cache directory signature.
	ExcludeCaches bool
	// ExcludeIfPresent leaves out directories holding an entry of one of
	// these names.
	ExcludeIfPresent []string
	// OneFileSystem does not cross into other file systems below each
	// path (mount points are left out).
	OneFileSystem bool
	// NumericIDs stores no user and group names.
	NumericIDs bool

	// Polynomial and Chunker are the repository's chunker settings.
	Polynomial chunker.Pol
	Chunker    chunker.Params
	// Compression is recorded in the archive record (the store applies
	// it).
	Compression string

	// Hostname and Username are recorded; an empty Hostname means
	// os.Hostname.
	Hostname, Username string
	Comment            string
	CommandLine        []string
	// Time, if not zero, is the archive's start time (borg's --timestamp);
	// the end time is Time plus the time the backup took.
	Time time.Time
	// Parent is the archive whose unchanged files are reused without
	// being read (see FindParent); nil reads every file.
	Parent *Entry
	// DryRun walks and counts but reads no content and stores nothing.
	DryRun bool
	// Workers is the number of goroutines that compress and store chunks
	// (default GOMAXPROCS); twice as many read files.
	Workers int

	// Warn is told about each file that vanished or could not be read
	// (it is left out, and the record lists it). List is told the status
	// of each entry. Progress receives snapshots at most every
	// ProgressInterval (default 200ms) and once at the end. All three are
	// optional and their calls are serialized (never concurrent), but
	// they may come from different goroutines.
	Warn             func(path string, err error)
	List             func(s Status, path string)
	Progress         func(Progress)
	ProgressInterval time.Duration

	hooks *createHooks // tests only
}

// maxRecordWarnings bounds the warnings kept in an archive record.
const maxRecordWarnings = 1000

// Create backs up o.Paths (and o.Stdin) into a new archive named o.Name:
// it stores the content as data blobs in cs, one tree blob per directory,
// and finally the archive record in as (which flushes cs first, so the
// record names only durable blobs). It returns the record and its ID.
//
// Files that vanish or cannot be read are reported to o.Warn, listed in
// Record.Warnings and left out entirely, also when the error comes in the
// middle of reading (an archive never holds a file with partial content);
// Create still succeeds. A directory that cannot be listed is kept, empty,
// with a warning. A file that shrinks while being read is stored as read
// (reported as StatusChanged), as is one that otherwise changed. A path given in
// o.Paths that does not exist is such a warning too, unless no path exists
// (ErrNoPaths). Create fails with ErrArchiveExists if the name is taken,
// with ErrBadPath for paths it cannot store, and with the store's or the
// context's error; then no record is written (blobs saved so far are left
// for compact). With o.DryRun, the returned record is not saved and its ID
// is zero.
func Create(ctx context.Context, cs ChunkStore, as ArchiveStore, o CreateOptions) (*Record, id.ID, error) {
	if o.Name == "" {
		return nil, id.ID{}, fmt.Errorf("create: empty archive name")
	}
	if len(o.Paths) == 0 && o.Stdin == nil {
		return nil, id.ID{}, fmt.Errorf("create %q: %w: no paths given", o.Name, ErrNoPaths)
	}
	if !o.DryRun {
		if err := o.Chunker.Validate(); err != nil {
			return nil, id.ID{}, fmt.Errorf("create %q: %w", o.Name, err)
		}
		if err := checkNameFree(ctx, as, o.Name); err != nil {
			return nil, id.ID{}, err
		}
	}
	if o.StdinName == "" {
		o.StdinName = "stdin"
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	roots, recorded, err := planPaths(o.Paths, o.Stdin != nil, o.StdinName)
	if err != nil {
		return nil, id.ID{}, fmt.Errorf("create %q: %w", o.Name, err)
	}
	started := time.Now()
	c := newCreator(ctx, cs, &o)
	tree, err := c.run(roots)
	if err != nil {
		return nil, id.ID{}, fmt.Errorf("create %q: %w", o.Name, err)
	}
	if !o.DryRun {
		if err := cs.Flush(ctx); err != nil {
			return nil, id.ID{}, fmt.Errorf("create %q: flush: %w", o.Name, err)
		}
		if err := c.acct.resolve(cs); err != nil {
			return nil, id.ID{}, fmt.Errorf("create %q: %w", o.Name, err)
		}
	}
	start := started
	if !o.Time.IsZero() {
		start = o.Time
	}
	end := start.Add(time.Since(started))
	rec := &Record{
		Name:        o.Name,
		Hostname:    o.Hostname,
		Username:    o.Username,
		Start:       FormatTime(start),
		End:         FormatTime(end),
		Paths:       recorded,
		Comment:     o.Comment,
		Tree:        tree[:],
		Stats:       c.acct.stats(),
		Chunker:     o.Chunker.String(),
		Compression: o.Compression,
		Warnings:    c.warnings(),
	}
	for _, a := range o.CommandLine {
		rec.CommandLine = append(rec.CommandLine, []byte(a))
	}
	if o.Parent != nil {
		rec.Parent = append([]byte(nil), o.Parent.ID[:]...)
	}
	if o.DryRun {
		return rec, id.ID{}, nil
	}
	// Another create may have taken the name meanwhile.
	if err := checkNameFree(ctx, as, o.Name); err != nil {
		return nil, id.ID{}, err
	}
	data, err := EncodeRecord(rec)
	if err != nil {
		return nil, id.ID{}, fmt.Errorf("create %q: encode record: %w", o.Name, err)
	}
	aid, err := as.SaveArchive(ctx, data)
	if err != nil {
		return nil, id.ID{}, fmt.Errorf("create %q: %w", o.Name, err)
	}
	return rec, aid, nil
}

// ownerNames returns the names of a user and a group id (nil if unknown).
func ownerNames(uid, gid uint32) (usr, grp []byte) {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		usr = []byte(u.Username)
	}
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		grp = []byte(g.Name)
	}
	return usr, grp
}

// checkNameFree fails with ErrArchiveExists if an archive is named name.
func checkNameFree(ctx context.Context, as ArchiveStore, name string) error {
	list, _, err := ListArchives(ctx, as)
	if err != nil {
		return fmt.Errorf("create %q: list archives: %w", name, err)
	}
	if _, err := FindByName(list, name); err == nil {
		return fmt.Errorf("create: %w: %q", ErrArchiveExists, name)
	}
	return nil
}

// joinPath joins a directory and a name as file system or archive paths:
// "" and "/" need no separator.
func joinFS(dir, name string) string {
	switch dir {
	case "":
		return name
	case "/":
		return "/" + name
	}
	return dir + "/" + name
}

// cleanRel returns a cleaned relative path, or ErrBadPath if it leads out
// of the current directory.
func cleanRel(p string) (string, error) {
	c := filepath.Clean(p)
	if c == ".." || len(c) > 2 && c[:3] == "../" {
		return "", fmt.Errorf("%w: %q leads out of the current directory; give it as an absolute path", ErrBadPath, p)
	}
	return c, nil
}
