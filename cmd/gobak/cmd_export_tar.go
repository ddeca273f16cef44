package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
)

// exportTarFlags are the flags of gobak export-tar.
type exportTarFlags struct {
	sel   selection
	strip int
	list  bool
}

func (a *app) newExportTarCmd() *cobra.Command {
	var f exportTarFlags
	cmd := &cobra.Command{
		Use:   "export-tar [flags] REPO::ARCHIVE FILE [PATH...]",
		Short: "Write an archive's files as a tar stream",
		Long: `Write the archive, or only the PATHs given (archive paths, as 'gobak list'
shows them) and what is below them, as a tar file to FILE, or to standard
output when FILE is '-'.

FILE is compressed according to its name: .tar.gz or .tgz with gzip,
.tar.zst or .tar.zstd with zstd, .tar.lz4 with lz4; any other name gets a
plain tar. Standard output gets a plain tar (pipe it through a compressor).
The tar is written to .gobak-export.tmp-XXXXXXXX in FILE's directory and
renamed to FILE once complete, replacing any existing FILE (keeping its
permissions) or, through a symlink (even a dangling one), the file it
names; a failed export leaves no FILE and no temporary file. A FILE that
is a device or FIFO (/dev/null, say) is written to directly.

The tar is in the POSIX.1-2001 (pax) format: nanosecond mtime, atime and
ctime, long names, uid/gid and user/group names, modes, symlinks, hard
links (later links point to the first), FIFOs and devices, and extended
attributes (POSIX ACLs included) as SCHILY.xattr records, which GNU tar
restores with --xattrs. Holes of sparse files are written as zeros (the
tar has no sparse entries). Files whose data is damaged in the repository
are written with zeros in place of the lost data and reported.

Exit codes: 0 everything exported, 1 some files damaged or not exported
completely, or a PATH not in the archive (see the warnings), 2 error
(archive not found, FILE not writable, entries refused as unsafe or
directories unreadable: the tar then has everything else).`,
		Example: `  gobak export-tar /backup/repo::myhost-2026-03-14_02:00 myhost.tar.zst
  gobak export-tar --strip-components 2 /backup/repo::myhost-2026-03-14_02:00 - home/deploy | ssh other tar -xf -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("%s takes REPO::ARCHIVE FILE [PATH...]", cmd.CommandPath())
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			st, err := a.runExportTar(cmd, args, &f)
			if err != nil {
				return err
			}
			return restoreOutcome("export-tar", "exported", st)
		}),
	}
	fl := cmd.Flags()
	f.sel.register(fl, "archive paths")
	fl.IntVar(&f.strip, "strip-components", 0, "drop `N` leading path components")
	fl.BoolVar(&f.list, "list", false, "print each exported path on stderr")
	return cmd
}

// runExportTar runs gobak export-tar and returns the export's statistics.
func (a *app) runExportTar(cmd *cobra.Command, args []string, f *exportTarFlags) (st archive.ExportTarStats, err error) {
	loc, name, err := a.archiveRef(args[0], true)
	if err != nil {
		return st, err
	}
	file := args[1]
	if file == "" {
		return st, usagef("export-tar: FILE is empty: name a file, or '-' for standard output")
	}
	if f.strip < 0 {
		return st, usagef("--strip-components %d: must be 0 or more", f.strip)
	}
	excl, roots, err := f.sel.matcher()
	if err != nil {
		return st, err
	}
	if len(roots) > 0 {
		return st, usagef("export-tar: 'R %s' names a backup root; export-tar takes archive PATHs as arguments instead", roots[0])
	}
	comp, err := tarCompression(file)
	if err != nil {
		return st, err
	}
	if file != "-" {
		if fi, err := os.Stat(file); err == nil && fi.IsDir() {
			return st, fmt.Errorf("export-tar: %s is a directory: name the tar file to write", file)
		}
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
	out, err := a.openTarOutput(ctx, file, comp)
	if err != nil {
		return st, err
	}
	defer func() {
		if err != nil {
			out.abort()
		}
	}()
	// Ctrl-C must stop a write blocked on a FIFO nobody reads: closing
	// the file makes it return (Go's poller wakes it). os.File.Close is
	// safe to call concurrently and again (commit, abort).
	if fd := out.file; fd != nil {
		stop := context.AfterFunc(ctx, func() { fd.Close() })
		defer stop()
	}
	xo := a.newExtractOutput(false)
	o := archive.ExportTarOptions{
		Paths: byteArgs(args[2:]), Exclude: excl, StripComponents: f.strip,
		Warn: xo.warn, Workers: restoreWorkers(loc),
	}
	if f.list {
		o.List = func(p []byte) { a.stderr.Write(append(p, '\n')) }
	}
	started := time.Now()
	st, err = archive.ExportTar(ctx, s.repo, e.Record, out.w, o)
	if err == nil {
		err = out.commit()
	}
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted: a write error then comes from closing the file.
			return st, fmt.Errorf("export-tar: %w", context.Cause(ctx))
		}
		if werr := out.failed(); werr != nil {
			return st, fmt.Errorf("export-tar: write %s: %w", out.name(), werr)
		}
		return st, repoError(loc.String(), fmt.Errorf("archive %q: %w", name, err))
	}
	a.logger.Info("exported", "archive", name, "file", file, "files", st.Files, "bytes", st.Bytes, "duration", time.Since(started))
	return st, nil
}

// tarCompression returns the compression FILE's name asks for: "gzip",
// "zstd", "lz4" or "" (none, also for standard output).
func tarCompression(file string) (string, error) {
	if file == "-" {
		return "", nil
	}
	base := filepath.Base(file)
	has := func(suffixes ...string) bool {
		for _, s := range suffixes {
			if strings.HasSuffix(base, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has(".tar.gz", ".tgz"):
		return "gzip", nil
	case has(".tar.zst", ".tar.zstd"):
		return "zstd", nil
	case has(".tar.lz4"):
		return "lz4", nil
	case has(".tar.bz2", ".tbz", ".tar.xz", ".txz"):
		return "", usagef("export-tar: %s: bzip2 and xz are not built in; write to '-' and pipe through the compressor, or use .tar.gz, .tar.zst or .tar.lz4", file)
	}
	return "", nil
}

// tarOutput is where the tar stream goes: a compressor (if any), a buffer,
// then a temporary file beside FILE (renamed to FILE by commit), FILE
// itself when it is a device or FIFO, or standard output.
type tarOutput struct {
	w     io.Writer      // what ExportTar writes to
	comp  io.WriteCloser // the compressor, nil for none
	buf   *bufio.Writer
	sink  *recordingWriter
	file  *os.File // nil for standard output
	tmp   string   // the temporary file, "" when writing directly
	final string   // FILE, "" for standard output
	done  bool
}

// recordingWriter remembers the first write error, so that a failed
// write (a full disk, a closed pipe) is told apart from a repository
// error.
type recordingWriter struct {
	w   io.Writer
	ctx context.Context
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	if r.ctx.Err() != nil {
		return 0, context.Cause(r.ctx) // interrupted: write nothing more
	}
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// abandoningWriter writes to standard output, which cannot be closed to
// wake a write blocked on a pipe nobody reads, from a goroutine of its own:
// once ctx is done, Write returns ctx's cause at once and the blocked
// write is abandoned (the process is about to exit). It writes a copy of
// the caller's bytes (in a buffer it reuses), which the abandoned write
// may go on reading. One Write at a time.
type abandoningWriter struct {
	w   io.Writer
	ctx context.Context
	buf []byte
}

func (a *abandoningWriter) Write(p []byte) (int, error) {
	if err := a.ctx.Err(); err != nil {
		return 0, context.Cause(a.ctx)
	}
	a.buf = append(a.buf[:0], p...)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func(b []byte) {
		n, err := a.w.Write(b)
		done <- result{n, err}
	}(a.buf)
	select {
	case r := <-done:
		return r.n, r.err
	case <-a.ctx.Done():
		a.buf = nil // still the abandoned write's: never reused
		return 0, context.Cause(a.ctx)
	}
}

// openTarOutput creates the temporary file for FILE (or opens FILE, a
// device or FIFO such as /dev/null, or takes standard output for "-") and
// the writers in front of it. A FILE that is a symlink is followed: the
// file it names is replaced (or created), the link stays. Opening a FIFO
// waits for a reader until ctx is done.
func (a *app) openTarOutput(ctx context.Context, file, comp string) (*tarOutput, error) {
	out := &tarOutput{}
	cannot := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return withHint(fmt.Errorf("export-tar: cannot create %s: %w", file, err),
			"choose a FILE in a directory you can write to, or '-' for standard output")
	}
	switch {
	case file == "-":
		out.sink = &recordingWriter{w: &abandoningWriter{w: a.stdout, ctx: ctx}, ctx: ctx}
	default:
		final, err := resolveSymlinks(file)
		if err != nil {
			return nil, cannot(err)
		}
		out.final = final
		fi, err := os.Stat(out.final)
		if err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
			fd, err := openFIFO(ctx, out.final)
			if err != nil {
				return nil, cannot(err)
			}
			out.file = fd
			break
		}
		if err == nil && !fi.Mode().IsRegular() {
			fd, err := os.OpenFile(out.final, os.O_WRONLY, 0)
			if err != nil {
				return nil, cannot(err)
			}
			out.file = fd
			break
		}
		var rnd [4]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, err
		}
		// A short name of its own, not FILE's name plus a suffix: a FILE
		// name of the longest length allowed (255 bytes) must still work.
		// In FILE's directory, so that the rename is atomic.
		out.tmp = dirOf(out.final) + ".gobak-export.tmp-" + hex.EncodeToString(rnd[:])
		perm := fs.FileMode(0o666) // a new FILE: 0666 &^ umask
		if fi != nil {
			perm = fi.Mode().Perm() // never more open than FILE, even for a moment
		}
		fd, err := os.OpenFile(out.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if err != nil {
			return nil, cannot(err)
		}
		out.file = fd
		if fi != nil {
			// The tar replaces FILE: it keeps FILE's permissions (a
			// private 0600 tar stays private, whatever the umask) and,
			// as root, its owner and group (an error only means we may
			// not give them away).
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
				_ = fd.Chown(int(st.Uid), int(st.Gid))
			}
			if err := fd.Chmod(fi.Mode().Perm()); err != nil {
				out.abort()
				return nil, cannot(err)
			}
		}
	}
	if out.file != nil {
		out.sink = &recordingWriter{w: out.file, ctx: ctx}
	}
	out.buf = bufio.NewWriterSize(out.sink, 1<<20)
	out.w = out.buf
	switch comp {
	case "gzip":
		out.comp = gzip.NewWriter(out.buf)
	case "zstd":
		zw, err := zstd.NewWriter(out.buf)
		if err != nil {
			out.abort()
			return nil, fmt.Errorf("export-tar: zstd: %w", err)
		}
		out.comp = zw
	case "lz4":
		out.comp = lz4.NewWriter(out.buf)
	}
	if out.comp != nil {
		out.w = out.comp
	}
	return out, nil
}

// resolveSymlinks follows file's symlinks by hand and returns the name
// they lead to. Unlike filepath.EvalSymlinks it works for a dangling
// link: its target is the file to create (the link stays). A relative
// target is taken relative to the link's directory, without cleaning
// ".." lexically (the kernel resolves it, through symlinked directories
// too). It fails with ELOOP after 40 links, as the kernel does.
func resolveSymlinks(file string) (string, error) {
	for range 40 {
		target, err := os.Readlink(file)
		if err != nil {
			return file, nil // not a symlink (or missing): file itself
		}
		if !filepath.IsAbs(target) {
			target = dirOf(file) + target
		}
		file = target
	}
	return "", &fs.PathError{Op: "open", Path: file, Err: syscall.ELOOP}
}

// dirOf returns the directory part of name with its trailing separator
// ("" for a name without one), uncleaned, so that dirOf(name)+base names
// a file in the same directory as name.
func dirOf(name string) string {
	return name[:strings.LastIndexByte(name, filepath.Separator)+1]
}

// openFIFO opens the FIFO name for writing without blocking until a
// reader comes, which Ctrl-C could not interrupt: open(2) with O_NONBLOCK
// fails with ENXIO while there is no reader; it is retried every 50 ms
// until ctx is done. The descriptor stays non-blocking: Go's poller
// handles it (a full pipe parks the writing goroutine, not the thread),
// and so a Close (on Ctrl-C, see runExportTar) wakes a write blocked on
// it.
func openFIFO(ctx context.Context, name string) (*os.File, error) {
	for {
		fd, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if !errors.Is(err, syscall.ENXIO) {
			return fd, err
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// name is the output's name for messages.
func (out *tarOutput) name() string {
	if out.final == "" {
		return "standard output"
	}
	return out.final
}

// failed returns the first error writing the output.
func (out *tarOutput) failed() error { return out.sink.err }

// commit ends the compressed stream, flushes it, and for a temporary file
// makes it durable and renames it to FILE.
func (out *tarOutput) commit() error {
	if out.comp != nil {
		if err := out.comp.Close(); err != nil {
			return err
		}
	}
	if err := out.buf.Flush(); err != nil {
		return err
	}
	if out.tmp == "" {
		out.done = true
		if out.file != nil {
			if err := out.file.Close(); err != nil {
				out.sink.err = err
				return err
			}
		}
		return nil
	}
	if err := out.file.Sync(); err != nil {
		out.sink.err = err
		return err
	}
	if err := out.file.Close(); err != nil {
		out.sink.err = err
		return err
	}
	out.file = nil
	if err := os.Rename(out.tmp, out.final); err != nil {
		out.sink.err = err
		return err
	}
	out.done = true
	if d, err := os.Open(filepath.Dir(out.final)); err == nil {
		_ = d.Sync() // the rename, durable where the file system allows
		d.Close()
	}
	return nil
}

// abort closes the output of an export that failed and removes its
// temporary file.
func (out *tarOutput) abort() {
	if out.done {
		return
	}
	if out.comp != nil {
		_ = out.comp.Close() // stops the compressor's goroutines
	}
	if out.file != nil {
		out.file.Close()
	}
	if out.tmp != "" {
		os.Remove(out.tmp)
	}
}
