package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gobak/gobak/pkg/archive"
)

// extractFlags are the flags of gobak extract.
type extractFlags struct {
	destination                           string
	sel                                   selection
	strip                                 int
	numericIDs, sparse, dryRun, list, prg bool
}

func (a *app) newExtractCmd() *cobra.Command {
	var f extractFlags
	cmd := &cobra.Command{
		Use:   "extract [flags] REPO::ARCHIVE [PATH...]",
		Short: "Restore an archive's files",
		Long: `Restore the archive into the current directory (or --destination), or only
the PATHs given (archive paths, as 'gobak list' shows them) and what is
below them. Existing files in the way are replaced; existing directories
are reused.

Nothing is ever written outside the destination: entries are created one
name at a time in directories opened without following symlinks, so
neither crafted names nor symlinks (from the archive or already in the
destination) lead elsewhere. Entries that would are refused and reported.

Owners, modes, extended attributes, ACLs and nanosecond times are restored
(owners only when run as root). Files whose data is damaged in the
repository are restored with zeros in place of the lost data and reported.

Exit codes: 0 everything restored, 1 some files damaged or not restored
completely, or a PATH not in the archive (see the warnings), 2 error (archive not found, entries refused
as unsafe, directories unreadable).`,
		Example: `  gobak extract /backup/repo::myhost-2026-03-14_02:00 home/deploy/app/config.yml
  gobak extract --destination /srv/restore --strip-components 2 /backup/repo::myhost-2026-03-14_02:00 home/deploy`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usagef("%s takes REPO::ARCHIVE [PATH...]", cmd.CommandPath())
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			st, err := a.runExtract(cmd, args, &f)
			if err != nil {
				return err
			}
			return restoreOutcome("extract", "restored", st)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.destination, "destination", "", "restore into `DIR` (default: the current directory)")
	f.sel.register(fl, "archive paths")
	fl.IntVar(&f.strip, "strip-components", 0, "drop `N` leading path components")
	fl.BoolVar(&f.numericIDs, "numeric-ids", false, "restore owners by numeric id only, ignoring user and group names")
	fl.BoolVar(&f.sparse, "sparse", false, "restore holes and runs of zeros as holes (sparse files)")
	fl.BoolVarP(&f.dryRun, "dry-run", "n", false, "do not write anything (with --list: show what would be restored)")
	fl.BoolVar(&f.list, "list", false, "print each restored path on stdout")
	fl.BoolVarP(&f.prg, "progress", "p", false, "show progress on stderr")
	return cmd
}

// restoreOutcome is the exit of a command that restored (verb) what
// st counts: an error if entries were refused or unreadable, a warning if
// some were incomplete or not found.
func restoreOutcome(cmd, verb string, st archive.ExtractStats) error {
	if n := st.Refused + st.Unreadable; n > 0 {
		return &msgError{msg: fmt.Sprintf("%s: %s refused as unsafe or unreadable (see above); everything else was %s",
			cmd, countOf(n, "entry", "entries"), verb), err: archive.ErrUnsafePath}
	}
	if n := st.Damaged + st.Failed + st.NotFound; n > 0 {
		return &warningExit{msg: fmt.Sprintf("%s not %s completely or not found (see above)", countOf(n, "entry", "entries"), verb)}
	}
	return nil
}

// runExtract runs gobak extract and returns the extraction's statistics.
func (a *app) runExtract(cmd *cobra.Command, args []string, f *extractFlags) (st archive.ExtractStats, err error) {
	loc, name, err := a.archiveRef(args[0], true)
	if err != nil {
		return st, err
	}
	if f.strip < 0 {
		return st, usagef("--strip-components %d: must be 0 or more", f.strip)
	}
	excl, roots, err := f.sel.matcher()
	if err != nil {
		return st, err
	}
	if len(roots) > 0 {
		return st, usagef("extract: 'R %s' names a backup root; extract takes archive PATHs as arguments instead", roots[0])
	}
	dest := f.destination
	if dest == "" {
		dest = "."
	}
	ctx := cmd.Context()
	s, err := a.openRepo(ctx, loc, sharedLock)
	if err != nil {
		return st, err
	}
	defer s.closeInto(ctx, &err)
	e, err := a.lookupArchive(ctx, s, name)
	if err != nil {
		return st, err
	}
	out := a.newExtractOutput(f.prg)
	o := archive.ExtractOptions{
		Destination: dest, Paths: byteArgs(args[1:]), Exclude: excl, StripComponents: f.strip,
		NumericIDs: f.numericIDs, Sparse: f.sparse, DryRun: f.dryRun,
		Warn: out.warn, Workers: restoreWorkers(loc),
	}
	if f.list {
		o.List = func(p []byte) {
			out.clear()
			a.stdout.Write(append(p, '\n'))
		}
	}
	if f.prg {
		o.Progress = out.progress
	}
	started := time.Now()
	st, err = archive.Extract(ctx, s.repo, e.Record, o)
	out.clear()
	if err != nil {
		return st, repoError(loc.String(), fmt.Errorf("archive %q: %w", name, err))
	}
	a.logger.Info("extracted", "archive", name, "files", st.Files, "bytes", st.Bytes, "duration", time.Since(started))
	return st, nil
}

// extractOutput prints warnings and the progress line on stderr.
// Extract serializes its callbacks; the mutex guards against List
// (printed by the caller) interleaving with them.
type extractOutput struct {
	a     *app
	mu    sync.Mutex
	tty   bool
	shown int
	last  time.Time
}

func (a *app) newExtractOutput(progress bool) *extractOutput {
	out := &extractOutput{a: a}
	if f, ok := a.stderr.(*os.File); ok && progress && term.IsTerminal(int(f.Fd())) {
		out.tty = true
	}
	return out
}

// warn prints one entry's problem: refusals and unreadable directories
// as errors, the rest as warnings.
func (out *extractOutput) warn(path []byte, err error) {
	out.clear()
	level := "warning"
	if errors.Is(err, archive.ErrUnsafePath) || errors.Is(err, archive.ErrPathConflict) || errors.Is(err, archive.ErrMalformed) {
		level = "error"
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Op + ": " + pe.Err.Error()
	}
	fmt.Fprintf(out.a.stderr, "gobak: %s: %s: %s\n", level, path, oneLine(msg))
}

// progress prints the live line (on a terminal; else once a second).
func (out *extractOutput) progress(p archive.ExtractProgress) {
	now := time.Now()
	interval := time.Second
	if out.tty {
		interval = 100 * time.Millisecond
	}
	if now.Sub(out.last) < interval {
		return
	}
	out.last = now
	line := fmt.Sprintf("extracting: %d files, %s", p.Files, formatSize(p.Bytes))
	if p.TotalBytes > 0 {
		line += fmt.Sprintf(" of %s (%.0f%%)", formatSize(p.TotalBytes), 100*float64(p.Bytes)/float64(p.TotalBytes))
	}
	line += ": " + string(p.Path)
	out.mu.Lock()
	defer out.mu.Unlock()
	if !out.tty {
		fmt.Fprintln(out.a.stderr, line)
		return
	}
	if len(line) > 100 {
		line = line[:100]
	}
	fmt.Fprintf(out.a.stderr, "\r%s%s", line, strings.Repeat(" ", max(0, out.shown-len(line))))
	out.shown = len(line)
}

// clear erases the progress line before other output.
func (out *extractOutput) clear() {
	out.mu.Lock()
	defer out.mu.Unlock()
	if out.shown > 0 {
		fmt.Fprintf(out.a.stderr, "\r%s\r", strings.Repeat(" ", out.shown))
		out.shown = 0
	}
}

// countOf renders "1 entry", "3 entries".
func countOf(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// byteArgs converts PATH arguments.
func byteArgs(args []string) [][]byte {
	out := make([][]byte, len(args))
	for i, s := range args {
		out[i] = []byte(s)
	}
	return out
}

// archiveRef parses a REPO::ARCHIVE argument (REPO may come from
// GOBAK_REPO). With needArchive, a missing ::ARCHIVE is a usage error.
func (a *app) archiveRef(arg string, needArchive bool) (location, string, error) {
	repoPart, name, err := splitArchive(arg, a.getenv("GOBAK_REPO"))
	if err != nil {
		return location{}, "", &usageError{err: err}
	}
	if needArchive && name == "" {
		return location{}, "", usagef("%q names no archive: write REPO::ARCHIVE", arg)
	}
	loc, err := parseLocation(repoPart)
	if err != nil {
		return location{}, "", &usageError{err: err}
	}
	return loc, name, nil
}

// archiveList lists the archives of an open repository, logging records
// that cannot be read.
func (a *app) archiveList(ctx context.Context, s *session) ([]archive.Entry, error) {
	list, bad, err := archive.ListArchives(ctx, s.repo)
	if err != nil {
		return nil, repoError(s.loc.String(), fmt.Errorf("list archives: %w", err))
	}
	for aid, e := range bad {
		a.logger.Warn("cannot read archive record", "id", aid.String(), "error", e)
	}
	return list, nil
}

// lookupArchive finds an archive by name.
func (a *app) lookupArchive(ctx context.Context, s *session, name string) (archive.Entry, error) {
	list, err := a.archiveList(ctx, s)
	if err != nil {
		return archive.Entry{}, err
	}
	e, err := archive.FindByName(list, name)
	if err != nil {
		return archive.Entry{}, withHint(&msgError{msg: fmt.Sprintf("archive %q not found in repository %s", name, s.loc), err: err},
			"list the archives with 'gobak list "+s.loc.String()+"'")
	}
	return e, nil
}
