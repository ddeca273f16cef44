package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/id"
)

// createFlags are the flags of gobak create.
type createFlags struct {
	sel                                   selection
	excludeIfPresent                      []string
	excludeCaches, oneFS, numericIDs      bool
	compression, comment, timestamp       string
	parent, stdinName                     string
	stats, list, dryRun, asJSON, progress bool
}

func (a *app) newCreateCmd() *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [flags] REPO::ARCHIVE PATH...",
		Short: "Back up files into a new archive",
		Long: `Back up the PATHs into a new archive named ARCHIVE. A PATH of "-" reads
standard input into one file (named by --stdin-name).

Absolute paths are stored without their leading "/", with the directories
on the way: /var/lib/pg is stored as var/lib/pg. Relative paths are stored
as given. The name may hold borg's placeholders: {hostname}, {fqdn},
{user}, {pid}, {uuid4}, {now}, {utcnow}, {now:%Y-%m-%d_%H:%M} (strftime);
write {{ and }} for braces.

Files unchanged since the parent archive (the newest archive of this host
with the same PATHs, or --parent) are not read again. Files that vanish or
cannot be read are reported and left out; the archive is still written and
gobak exits with 1.

--list prints one line per entry on stderr, with borg's status letters:
A added, M modified, U unchanged, C changed while read, E error, d
directory, s symlink, f fifo, c/b devices, i standard input, x excluded,
S socket (never stored), - dry run.`,
		Example: `  gobak create /backup/repo::{hostname}-{now:%Y-%m-%d_%H:%M} /etc /home --exclude '/home/*/.cache'
  pg_dump app | gobak create --stdin-name app.sql /backup/repo::db-{now} -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usagef("%s takes REPO::ARCHIVE and at least one PATH (or - for standard input, or roots given by --pattern 'R PATH'), got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			warnings, err := a.runCreate(cmd, args, &f)
			if err != nil {
				return err
			}
			if warnings > 0 {
				return &warningExit{msg: fmt.Sprintf("%d files or directories were left out (see above); the archive lists them", warnings)}
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	f.sel.register(fl, "paths")
	fl.BoolVar(&f.excludeCaches, "exclude-caches", false, "leave out directories holding a CACHEDIR.TAG")
	fl.StringArrayVar(&f.excludeIfPresent, "exclude-if-present", nil, "leave out directories holding an entry called `NAME` (repeatable)")
	fl.BoolVarP(&f.oneFS, "one-file-system", "x", false, "do not cross into other file systems below each PATH")
	fl.BoolVar(&f.numericIDs, "numeric-ids", false, "store only numeric user and group ids, no names")
	fl.StringVarP(&f.compression, "compression", "C", "", "`COMPRESSION` for this archive: none, lz4, s2, zstd[,LEVEL], auto,C (default: the repository's)")
	fl.StringVar(&f.comment, "comment", "", "add a `COMMENT` to the archive")
	fl.StringVar(&f.timestamp, "timestamp", "", "archive time: `TIME` as 2006-01-02T15:04:05 (local) or RFC 3339, or a file whose mtime to use")
	fl.StringVar(&f.parent, "parent", "", "reuse unchanged files of archive `NAME` (default: the newest with the same host and PATHs)")
	fl.StringVar(&f.stdinName, "stdin-name", "stdin", "file `NAME` for the data read from standard input")
	fl.BoolVarP(&f.stats, "stats", "s", false, "print the archive's statistics")
	fl.BoolVar(&f.list, "list", false, "print each entry with its status on stderr")
	fl.BoolVarP(&f.dryRun, "dry-run", "n", false, "walk and count, store nothing")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON (borg's layout)")
	fl.BoolVarP(&f.progress, "progress", "p", false, "show progress on stderr")
	return cmd
}

// runCreate runs gobak create and returns the number of warnings.
func (a *app) runCreate(cmd *cobra.Command, args []string, f *createFlags) (warnings int, err error) {
	repoPart, tmpl, err := splitArchive(args[0], a.getenv("GOBAK_REPO"))
	if err != nil {
		return 0, &usageError{err: err}
	}
	if tmpl == "" {
		return 0, usagef("%q names no archive: write REPO::ARCHIVE", args[0])
	}
	loc, err := parseLocation(repoPart)
	if err != nil {
		return 0, err
	}
	name, err := expandPlaceholders(tmpl, a.defaultPlaceholderEnv(time.Now()))
	if err != nil {
		return 0, usagef("archive name %v", err)
	}
	if name == "" || strings.ContainsAny(name, "/\x00\n") {
		return 0, usagef("archive name %q: must not be empty or contain '/' or control characters", name)
	}
	o := archive.CreateOptions{
		Name: name, StdinName: f.stdinName, ExcludeCaches: f.excludeCaches, ExcludeIfPresent: f.excludeIfPresent,
		OneFileSystem: f.oneFS, NumericIDs: f.numericIDs, Comment: f.comment, DryRun: f.dryRun,
		Username: a.username(), CommandLine: os.Args,
	}
	m, roots, err := f.sel.matcher()
	if err != nil {
		return 0, err
	}
	if m != nil {
		o.Exclude = m // (a nil *Matcher must not become a non-nil Excluder)
	}
	inputs := append(args[1:len(args):len(args)], roots...)
	if len(inputs) == 0 {
		return 0, usagef("%s takes REPO::ARCHIVE and at least one PATH (or - for standard input, or roots given by --pattern 'R PATH'), got %d arguments", cmd.CommandPath(), len(args))
	}
	if err := a.createInputs(inputs, &o); err != nil {
		return 0, err
	}
	if o.Time, err = parseTimestamp(f.timestamp); err != nil {
		return 0, err
	}
	var comp compress.Spec
	if f.compression != "" {
		if comp, err = compress.ParseSpec(f.compression); err != nil {
			return 0, usagef("--compression: %v", err)
		}
	}
	o.Hostname, _ = os.Hostname()

	ctx := cmd.Context()
	s, err := a.openRepo(ctx, loc, sharedLock)
	if err != nil {
		return 0, err
	}
	defer s.closeInto(ctx, &err)
	// A backup killed earlier may have left uploaded packs that no index
	// file names yet; index them so their chunks are not uploaded again.
	if !f.dryRun {
		if n, err := s.repo.IndexOrphanPacks(ctx); err != nil {
			return 0, repoError(loc.String(), err)
		} else if n > 0 {
			a.logger.Info("indexed packs left by an interrupted backup", "packs", n)
		}
	}
	cfg := s.repo.Config()
	o.Polynomial, o.Chunker, o.Compression = cfg.Polynomial, cfg.Chunker, cfg.Compression.String()
	if f.compression != "" {
		s.repo.SetCompression(comp)
		o.Compression = comp.String()
	}
	list, bad, err := archive.ListArchives(ctx, s.repo)
	if err != nil {
		return 0, repoError(loc.String(), fmt.Errorf("list archives: %w", err))
	}
	for aid, e := range bad {
		a.logger.Warn("cannot read archive record", "id", aid.String(), "error", e)
	}
	if _, err := archive.FindByName(list, name); err == nil {
		return 0, withHint(&msgError{msg: fmt.Sprintf("archive %q already exists in repository %s", name, loc), err: archive.ErrArchiveExists},
			"choose another name, e.g. with a placeholder such as {now}")
	}
	if o.Parent, err = pickParent(list, f.parent, o); err != nil {
		return 0, err
	}
	if o.Parent != nil {
		a.logger.Info("parent archive", "name", o.Parent.Record.Name, "id", o.Parent.ID.String())
	}

	out := a.createOutput(f)
	o.Warn, o.List, o.Progress = out.warn, out.listFunc(), out.progressFunc()
	started := time.Now()
	rec, aid, err := archive.Create(ctx, s.repo, s.repo, o)
	out.endProgress()
	if err != nil && ctx.Err() != nil && !f.dryRun {
		// Interrupted: no archive is written, but what was uploaded is
		// indexed, so that the next run does not upload it again.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		if ferr := s.repo.Flush(fctx); ferr != nil {
			a.logger.Info("could not keep the data saved before the interruption", "error", ferr)
		}
		cancel()
	}
	switch {
	case errors.Is(err, archive.ErrArchiveExists):
		return 0, &msgError{msg: fmt.Sprintf("archive %q already exists in repository %s", name, loc), err: err}
	case errors.Is(err, archive.ErrNoPaths):
		return 0, &msgError{msg: "nothing to back up: no PATH exists", err: err}
	case errors.Is(err, archive.ErrBadPath):
		return 0, &usageError{err: err}
	case err != nil:
		return 0, repoError(loc.String(), err)
	}
	a.logger.Info("archive created", "name", rec.Name, "id", aid.String(), "duration", time.Since(started))
	if !f.dryRun {
		if f.asJSON {
			err = writeJSON(a.stdout, a.createJSONOf(ctx, loc, s, rec, aid))
		} else if f.stats {
			err = writeCreateStats(a.stdout, loc, rec, aid)
		}
	}
	return out.warnings, err
}

// createInputs sorts the PATH arguments into paths and standard input,
// and fails if none of the paths exists (a missing PATH among existing
// ones is only a warning, reported by the backup).
func (a *app) createInputs(args []string, o *archive.CreateOptions) error {
	var missing []string
	for _, p := range args {
		if p == "-" {
			if o.Stdin != nil {
				return usagef("- (standard input) given twice")
			}
			o.Stdin = a.stdin
			continue
		}
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, p)
		}
		o.Paths = append(o.Paths, p)
	}
	if o.Stdin == nil && len(missing) == len(o.Paths) {
		return &msgError{msg: "nothing to back up: no such file or directory: " + strings.Join(missing, ", "), err: archive.ErrNoPaths}
	}
	return nil
}

// parseTimestamp parses --timestamp: an RFC 3339 time, a local time as
// 2006-01-02T15:04:05, or the name of a file whose mtime to use.
func parseTimestamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if fi, err := os.Stat(s); err == nil {
		return fi.ModTime(), nil
	}
	return time.Time{}, usagef("--timestamp %q: want 2006-01-02T15:04:05 (local time), an RFC 3339 time, or an existing file", s)
}

// pickParent returns the archive named by --parent, else the newest of
// this host with the same paths.
func pickParent(list []archive.Entry, name string, o archive.CreateOptions) (*archive.Entry, error) {
	if name != "" {
		e, err := archive.FindByName(list, name)
		if err != nil {
			return nil, &msgError{msg: fmt.Sprintf("--parent: no archive %q", name), err: err}
		}
		return &e, nil
	}
	var paths [][]byte
	for _, p := range o.Paths {
		paths = append(paths, []byte(filepath.Clean(p)))
	}
	if o.Stdin != nil {
		paths = append(paths, []byte("-"))
	}
	return archive.FindParent(list, o.Hostname, paths), nil
}

// createOutput prints what create reports while it runs: warnings, list
// lines and the progress line, all on stderr.
type createOutput struct {
	w        io.Writer
	list     bool
	progress bool
	tty      bool
	width    int
	shown    bool // the progress line is on screen
	last     time.Time
	warnings int
}

func (a *app) createOutput(f *createFlags) *createOutput {
	out := &createOutput{w: a.stderr, list: f.list, progress: f.progress, width: 80}
	if file, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		out.tty = true
		if w, _, err := term.GetSize(int(file.Fd())); err == nil && w > 10 {
			out.width = w
		}
	}
	return out
}

// warn prints a file left out. (Create serializes the callbacks.)
func (out *createOutput) warn(path string, err error) {
	out.warnings++
	out.clearLine()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		fmt.Fprintf(out.w, "gobak: warning: %s: %s: %v\n", path, pe.Op, pe.Err)
		return
	}
	fmt.Fprintf(out.w, "gobak: warning: %s: %v\n", path, err)
}

func (out *createOutput) listFunc() func(archive.Status, string) {
	if !out.list {
		return nil
	}
	return func(s archive.Status, path string) {
		out.clearLine()
		fmt.Fprintf(out.w, "%c %s\n", byte(s), path)
	}
}

func (out *createOutput) progressFunc() func(archive.Progress) {
	if !out.progress {
		return nil
	}
	return func(p archive.Progress) {
		now := time.Now()
		if !out.tty && now.Sub(out.last) < time.Second {
			return
		}
		out.last = now
		line := fmt.Sprintf("%d files (%s), %s read, %s new: %s", p.Files, formatSize(p.OriginalSize),
			formatSize(p.ReadBytes), formatSize(p.WrittenBytes), p.Path)
		if !out.tty {
			fmt.Fprintln(out.w, line)
			return
		}
		if r := []rune(line); len(r) > out.width-1 {
			line = string(r[:out.width-1])
		}
		fmt.Fprintf(out.w, "\r%s\x1b[K", line) // rewrite the line, erase the rest
		out.shown = true
	}
}

// clearLine erases the progress line before other output.
func (out *createOutput) clearLine() {
	if out.shown {
		fmt.Fprint(out.w, "\r\x1b[K")
		out.shown = false
	}
}

// endProgress erases the progress line at the end.
func (out *createOutput) endProgress() { out.clearLine() }

// createJSON is create --json: borg's layout, with gobak's extra counters
// in archive.stats.
type createJSON struct {
	Repository struct {
		ID       string `json:"id"`
		Location string `json:"location"`
	} `json:"repository"`
	Encryption struct {
		Mode string `json:"mode"`
	} `json:"encryption"`
	Cache struct {
		Path  string         `json:"path,omitempty"`
		Stats cacheStatsJSON `json:"stats"`
	} `json:"cache"`
	Archive struct {
		Name        string   `json:"name"`
		ID          string   `json:"id"`
		Start       string   `json:"start"`
		End         string   `json:"end"`
		Duration    float64  `json:"duration"`
		Hostname    string   `json:"hostname"`
		Username    string   `json:"username"`
		Comment     string   `json:"comment"`
		CommandLine []string `json:"command_line"`
		Parent      string   `json:"parent,omitempty"`
		Warnings    []string `json:"warnings,omitempty"`
		Stats       struct {
			OriginalSize     uint64 `json:"original_size"`
			CompressedSize   uint64 `json:"compressed_size"`
			DeduplicatedSize uint64 `json:"deduplicated_size"`
			NFiles           uint64 `json:"nfiles"`
			NDirs            uint64 `json:"ndirs"`
			NChunks          uint64 `json:"nchunks"`
			NNewChunks       uint64 `json:"nnew_chunks"`
			ReadBytes        uint64 `json:"read_bytes"`
		} `json:"stats"`
	} `json:"archive"`
}

// borgTime renders a record time as borg does (local, no zone).
func borgTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02T15:04:05.000000")
}

func (a *app) createJSONOf(ctx context.Context, loc location, s *session, rec *archive.Record, aid id.ID) *createJSON {
	var out createJSON
	cfg := s.repo.Config()
	out.Repository.ID, out.Repository.Location = cfg.ID.String(), loc.String()
	out.Encryption.Mode = cfg.Encryption
	if root := a.cacheRoot(); root != "" {
		out.Cache.Path = filepath.Join(root, cfg.ID.String())
	}
	if st, err := s.repo.Stats(ctx); err == nil {
		out.Cache.Stats = dataCacheStats(st)
	}
	ar := &out.Archive
	ar.Name, ar.ID, ar.Hostname, ar.Username, ar.Comment = rec.Name, aid.String(), rec.Hostname, rec.Username, rec.Comment
	ar.Start, ar.End = borgTime(rec.Start), borgTime(rec.End)
	if st, err := rec.StartTime(); err == nil {
		if en, err := rec.EndTime(); err == nil {
			ar.Duration = en.Sub(st).Seconds()
		}
	}
	for _, c := range rec.CommandLine {
		ar.CommandLine = append(ar.CommandLine, string(c))
	}
	if len(rec.Parent) == id.Size {
		ar.Parent = id.ID(rec.Parent).String()
	}
	ar.Warnings = rec.Warnings
	st := rec.Stats
	as := &ar.Stats
	as.OriginalSize, as.CompressedSize, as.DeduplicatedSize, as.NFiles = st.OriginalSize, st.CompressedSize, st.DeduplicatedSize, st.NFiles
	as.NDirs, as.NChunks, as.NNewChunks, as.ReadBytes = st.NDirs, st.NChunks, st.NNewChunks, st.ReadBytes
	return &out
}

// writeCreateStats prints --stats for people.
func writeCreateStats(w io.Writer, loc location, rec *archive.Record, aid id.ID) error {
	line := strings.Repeat("-", 78)
	st := rec.Stats
	start, _ := rec.StartTime()
	end, _ := rec.EndTime()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, line)
	fmt.Fprintf(w, "Repository: %s\nArchive name: %s\nArchive fingerprint: %s\n", loc, rec.Name, aid)
	fmt.Fprintf(w, "Time (start): %s\nTime (end):   %s\nDuration: %s\n", start.Local().Format("Mon, 2006-01-02 15:04:05"),
		end.Local().Format("Mon, 2006-01-02 15:04:05"), end.Sub(start).Round(time.Millisecond))
	fmt.Fprintf(w, "Number of files: %d\nNumber of directories: %d\nRead: %s\n", st.NFiles, st.NDirs, formatSize(st.ReadBytes))
	if len(rec.Warnings) > 0 {
		fmt.Fprintf(w, "Warnings: %d\n", len(rec.Warnings))
	}
	fmt.Fprintln(w, line)
	fmt.Fprintf(tw, "\tOriginal size\tCompressed size\tDeduplicated size\t\n")
	fmt.Fprintf(tw, "This archive:\t%s\t%s\t%s\t\n", formatSize(st.OriginalSize), formatSize(st.CompressedSize), formatSize(st.DeduplicatedSize))
	fmt.Fprintf(tw, "\tChunks\tNew chunks\t\t\n")
	fmt.Fprintf(tw, "Chunks:\t%d\t%d\t\t\n", st.NChunks, st.NNewChunks)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
