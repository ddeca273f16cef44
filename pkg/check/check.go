package check

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

// Options control Check.
type Options struct {
	// RepositoryOnly skips the archives part; ArchivesOnly skips the
	// repository part (packs, index files, config, keys, locks; the index
	// files are still read, to know where blobs are). Setting both is an
	// error.
	RepositoryOnly, ArchivesOnly bool
	// Archive, if not empty, restricts the archives part to the archive
	// of that name (the repository part still runs unless ArchivesOnly).
	// If no readable archive has that name, a KindArchiveMissing problem
	// is reported.
	Archive string
	// VerifyData reads every pack in full: checks its name against the
	// BLAKE3 of its bytes and verifies every blob in it.
	VerifyData bool
	// Subset, if not nil, reads in full only the packs it selects (the
	// others get the trailer check); it implies VerifyData for them.
	Subset *Subset
	// Workers is the number of packs checked at once (default
	// GOMAXPROCS).
	Workers int
	// Hostname is this host's name, to tell stale locks (default
	// os.Hostname).
	Hostname string
	// Progress, if set, receives snapshots as the check goes on. Calls are
	// serialized.
	Progress func(Progress)
}

// ErrOptions is returned by Check for contradictory options.
var ErrOptions = errors.New("contradictory check options")

// checker holds the state of one Check.
type checker struct {
	ctx    context.Context
	r      *repo.Repo
	be     backend.Backend
	key    *crypto.Key
	o      Options
	report func(Problem)

	mu   sync.Mutex // guards sum, report and progress calls, bad
	sum  Summary
	bad  map[id.ID]blobIssue // damaged or lost blobs, for the archive mapping
	view *view
	// listed holds every pack file found, with its size.
	listed map[id.ID]int64
	// unindexed holds the blobs found in the trailers of packs no index
	// file names (guarded by mu), so the archives part can still read
	// trees stored there and tell lost data from unindexed data.
	unindexed map[id.ID]index.Location
	// badCopies are the (pack, blob) copies reported damaged while another
	// copy of the blob verified (guarded by mu).
	badCopies map[[2]id.ID]bool

	// perBlobLoad makes VerifyData use repo.LoadBlob for each blob instead
	// of opening blobs from the pack read once (benchmarks compare both).
	perBlobLoad bool
}

// blobIssue is why a blob is damaged or lost.
type blobIssue struct {
	kind string
	pack id.ID
	typ  id.BlobType
	msg  string
}

// Check verifies the repository r and calls report (never concurrently)
// for every problem found; it does not stop at the first. It returns a
// summary of what was checked and found. The error is non-nil only when the
// check could not be carried out (ctx canceled, the backend cannot list
// files, contradictory options); problems of the repository's content are
// never returned as errors. r is only read; the caller should hold a shared
// lock.
func Check(ctx context.Context, r *repo.Repo, o Options, report func(Problem)) (Summary, error) {
	start := time.Now()
	if o.RepositoryOnly && o.ArchivesOnly {
		return Summary{}, fmt.Errorf("check: %w: repository-only and archives-only", ErrOptions)
	}
	if o.RepositoryOnly && o.Archive != "" {
		return Summary{}, fmt.Errorf("check: %w: repository-only with an archive", ErrOptions)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if report == nil {
		report = func(Problem) {}
	}
	c := &checker{ctx: ctx, r: r, be: r.Backend(), key: r.Key(), o: o, report: report, bad: map[id.ID]blobIssue{}, unindexed: map[id.ID]index.Location{}}
	sum, err := c.run()
	sum.Duration = time.Since(start)
	return sum, err
}

func (c *checker) run() (Summary, error) {
	switch {
	case c.o.ArchivesOnly:
		c.sum.PackCheck = "none"
	case c.o.Subset != nil:
		c.sum.PackCheck = "trailers, full read of subset " + c.o.Subset.String()
	case c.o.VerifyData:
		c.sum.PackCheck = "full read"
	default:
		c.sum.PackCheck = "trailers"
	}
	if !c.o.ArchivesOnly {
		if err := c.checkMeta(); err != nil {
			return c.summary(), err
		}
	}
	if err := c.loadIndex(); err != nil {
		return c.summary(), err
	}
	if !c.o.ArchivesOnly {
		if err := c.checkPacks(); err != nil {
			return c.summary(), err
		}
	}
	var aff affected
	if !c.o.RepositoryOnly {
		var err error
		if aff, err = c.checkArchives(); err != nil {
			return c.summary(), err
		}
	}
	c.reportBlobs(aff)
	return c.summary(), c.ctx.Err()
}

// summary returns a copy of the summary so far.
func (c *checker) summary() Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sum
}

// emit reports a problem and counts it.
func (c *checker) emit(p Problem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p.Severity {
	case Warning:
		c.sum.Warnings++
	default:
		p.Severity = Damage
		c.sum.Damage++
	}
	c.report(p)
}

// markBad records a damaged or lost blob; the first reason is kept.
func (c *checker) markBad(b id.ID, is blobIssue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.bad[b]; !ok {
		c.bad[b] = is
	}
}

// progress sends a snapshot to Options.Progress.
func (c *checker) progress(phase string, done, total int) {
	if c.o.Progress == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.o.Progress(Progress{Phase: phase, Done: done, Total: total, Bytes: c.sum.BytesRead})
}

// ctxErr returns the context's error, wrapped.
func (c *checker) ctxErr() error {
	if err := c.ctx.Err(); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	return nil
}
