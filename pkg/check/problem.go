package check

import (
	"fmt"
	"strings"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// Severity says how bad a Problem is.
type Severity uint8

const (
	// Warning is a problem that loses no data: an orphan pack that
	// compaction will remove, a stale lock, a leftover index file.
	Warning Severity = 1
	// Damage is data that is lost, unreadable or inconsistent.
	Damage Severity = 2
)

// String returns "warning" or "damage".
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Damage:
		return "damage"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// Problem kinds, the values of Problem.Kind.
const (
	KindConfig         = "config"          // the config file
	KindKey            = "key"             // a key file
	KindLock           = "lock"            // a lock file
	KindJunk           = "junk-file"       // a file whose name is not an ID
	KindIndexFile      = "index-file"      // an index file that cannot be read
	KindIndexConflict  = "index-conflict"  // a blob indexed twice in conflicting ways
	KindIndexMismatch  = "index-mismatch"  // index and pack trailer disagree
	KindMissingPack    = "missing-pack"    // an indexed pack does not exist
	KindOrphanPack     = "orphan-pack"     // a pack no index file names
	KindPackTrailer    = "pack-trailer"    // a trailer that cannot be read
	KindPackHash       = "pack-hash"       // a pack whose bytes do not match its name
	KindBlobDamaged    = "blob-damaged"    // a blob that fails verification
	KindMissingBlob    = "missing-blob"    // a referenced blob that no index names
	KindArchiveRecord  = "archive-record"  // an archive record that cannot be read
	KindTree           = "tree"            // a tree (directory) that cannot be read or is inconsistent
	KindArchiveMissing = "archive-missing" // Options.Archive names no archive
)

// Problem is one thing Check found wrong. Fields that do not apply are
// zero.
type Problem struct {
	Severity Severity
	// Kind is one of the Kind constants.
	Kind string
	// Pack, Blob and IndexFile name the repository objects concerned.
	Pack, Blob, IndexFile id.ID
	// Archive is the name of the archive concerned (or, for a record that
	// cannot be read, its ID).
	Archive string
	// Paths are the archive paths of the files and directories affected
	// in Archive.
	Paths []string
	// Message says what is wrong.
	Message string
}

// String renders the problem on one line, for text output.
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s:", p.Severity, p.Kind)
	if !p.Pack.IsNull() {
		fmt.Fprintf(&b, " pack %s", p.Pack.Short())
	}
	if !p.Blob.IsNull() {
		fmt.Fprintf(&b, " blob %s", p.Blob.Short())
	}
	if !p.IndexFile.IsNull() {
		fmt.Fprintf(&b, " index file %s", p.IndexFile.Short())
	}
	if p.Archive != "" {
		fmt.Fprintf(&b, " archive %q", p.Archive)
	}
	if len(p.Paths) > 0 {
		quoted := make([]string, len(p.Paths))
		for i, s := range p.Paths {
			quoted[i] = fmt.Sprintf("%q", s)
		}
		fmt.Fprintf(&b, " paths %s", strings.Join(quoted, ", "))
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(strings.Fields(p.Message), " "))
	return b.String()
}

// Summary counts what Check looked at and found.
type Summary struct {
	// Packs is the number of pack files listed.
	Packs int
	// PacksTrailer counts packs whose trailer was read and checked.
	PacksTrailer int
	// PacksRead counts packs read in full: BLAKE3 name checked and every
	// blob verified.
	PacksRead int
	// BytesRead is the size of the packs read in full.
	BytesRead int64
	// BlobsVerified counts blobs authenticated, decompressed and
	// ID-checked.
	BlobsVerified int
	// IndexFiles and IndexedBlobs count the index files and the distinct
	// blobs they name.
	IndexFiles   int
	IndexedBlobs int
	// Archives and Trees count the archives and distinct trees checked.
	Archives int
	Trees    int
	// Warnings and Damage count the problems reported of each severity.
	Warnings int
	Damage   int
	// PackCheck says how packs were checked: "trailers" (no data read),
	// "full read" (every pack read, VerifyData), or "trailers, full read
	// of a subset" (Subset).
	PackCheck string
	// Duration is how long Check took.
	Duration time.Duration
}

// OK reports whether no problem was found.
func (s Summary) OK() bool { return s.Warnings == 0 && s.Damage == 0 }

// Progress is a snapshot passed to Options.Progress.
type Progress struct {
	// Phase is "index", "packs", "archives" or "map".
	Phase string
	// Done and Total count items of the phase (index files, packs,
	// archives); Total is 0 when unknown.
	Done, Total int
	// Bytes is the pack data read in full so far.
	Bytes int64
}
