package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/check"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// checkFlags are the options of gobak check.
type checkFlags struct {
	repoOnly, archivesOnly, verifyData, asJSON, progress bool
	repair, yes                                          bool
	subset                                               string
	seed                                                 uint64
}

func (a *app) newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [flags] REPO | REPO::ARCHIVE",
		Short: "Verify a repository and its archives, and report what is damaged",
		Long: `Verify the repository and its archives without changing anything, and
report every problem found, each naming the pack, blob, index file, archive
and file paths it affects.

The repository part lists every pack and checks its trailer against the
index files, checks that every indexed pack exists, that index files load
and agree with each other, that config and key files parse, and that locks
are readable and not stale. The archives part decrypts every archive record
(only ARCHIVE's with REPO::ARCHIVE), decodes every tree reachable from them
and checks that every blob they reference is indexed. REPO::ARCHIVE
restricts the archives part to that archive; the repository part still runs
unless --archives-only is given.

Damaged or missing blobs are reported once per archive that references
them, with the file paths affected.

--verify-data reads every pack once, checks its name against the BLAKE3 of
its content and authenticates, decompresses and re-hashes every blob in it.
--read-data-subset does this for a part of the packs only: N/M reads part N
of M (run 1/M ... M/M to cover everything); P% reads a P% window that moves
every week (or with --seed), so that weekly runs cover the whole repository
in ceil(100/P) weeks.

--repair (under an exclusive lock, after you type YES or with --yes)
repairs what the check finds: it rebuilds the index files from the pack
trailers, replaces damaged packs by new ones holding the blobs that still
verify, deletes packs no index can name and archive records that cannot be
read, and rewrites archives that lost data: a file keeps its good parts and
its lost ranges are restored as zeros with a warning; a directory whose
listing is lost becomes empty. A damaged config body is rewritten (with a
new chunker polynomial). Then it checks again. With --verify-data it also
finds and drops blobs that fail verification. The next backup reads files
that lost data again, so an intact source heals them in new archives. A
damaged key cannot be rebuilt: restore it with 'gobak key import'.

Exit codes: 0 no problem, 1 only warnings (e.g. orphan packs: run 'gobak
compact'), 2 damage (or the check could not run). With --repair: 0 when
nothing was lost, 1 when the repair succeeded but data was lost (files
marked damaged, archive records deleted), 2 when damage remains.`,
		Args: maxArgs(1, "one REPO or REPO::ARCHIVE argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return a.runCheck(cmd, args, &f, cmd.Flags().Changed("seed"))
		}),
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.repoOnly, "repository-only", false, "check only the repository (packs, index, config, keys, locks)")
	fl.BoolVar(&f.archivesOnly, "archives-only", false, "check only the archives")
	fl.BoolVar(&f.verifyData, "verify-data", false, "read every pack and verify every blob in it")
	fl.StringVar(&f.subset, "read-data-subset", "", "verify the data of part `N/M` or P% of the packs")
	fl.Uint64Var(&f.seed, "seed", 0, "rotation `NUMBER` choosing the window of --read-data-subset P% (default: weeks since 1970)")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per problem and a summary object (JSON lines)")
	fl.BoolVar(&f.progress, "progress", false, "show progress on stderr")
	fl.BoolVar(&f.repair, "repair", false, "repair what is found (exclusive lock; asks for confirmation)")
	fl.BoolVar(&f.yes, "yes", false, "do not ask for confirmation of --repair")
	return cmd
}

func (a *app) runCheck(cmd *cobra.Command, args []string, f *checkFlags, seedSet bool) (err error) {
	if f.repoOnly && f.archivesOnly {
		return usagef("--repository-only and --archives-only exclude each other")
	}
	if f.archivesOnly && (f.verifyData || f.subset != "") {
		return usagef("--verify-data and --read-data-subset check packs, which --archives-only skips")
	}
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	loc, name, err := a.archiveRef(arg, false)
	if err != nil {
		return err
	}
	if f.repoOnly && name != "" {
		return usagef("--repository-only checks no archive, but %q names one", arg)
	}
	if f.repair && (f.repoOnly || f.archivesOnly || name != "") {
		return usagef("--repair covers the whole repository: drop --repository-only, --archives-only and ::ARCHIVE")
	}
	if f.yes && !f.repair {
		return usagef("--yes only applies to --repair")
	}
	o := check.Options{RepositoryOnly: f.repoOnly, ArchivesOnly: f.archivesOnly, Archive: name, VerifyData: f.verifyData}
	if f.subset != "" {
		rot := uint64(time.Now().Unix() / (7 * 24 * 3600))
		if seedSet {
			rot = f.seed
		}
		s, err := check.ParseSubset(f.subset, rot)
		if err != nil {
			return usagef("--read-data-subset: %v", err)
		}
		o.Subset = &s
	}
	out := &checkOutput{w: a.stdout, json: f.asJSON}
	ctx := cmd.Context()
	if f.progress {
		o.Progress = a.checkProgress()
	}
	if f.repair {
		return a.runRepair(ctx, loc, o, out, f.yes)
	}
	s, err := a.openRepo(ctx, loc, sharedLock)
	if err != nil {
		// A repository whose config or key cannot be read is reported
		// like any other damage, then the error ends the command.
		kind := ""
		switch {
		case errors.Is(err, repo.ErrDamaged):
			kind = check.KindConfig
		case errors.Is(err, repo.ErrNoKey):
			kind = check.KindKey
		case errors.Is(err, repo.ErrWrongPassphrase):
			return withHint(err, "if the passphrase is right, the key file is damaged: restore it with 'gobak key import'")
		}
		if kind != "" {
			out.problem(check.Problem{Severity: check.Damage, Kind: kind, Message: oneLine(tidy(err.Error()))})
			if werr := out.summary(loc.String(), check.Summary{Damage: 1, PackCheck: "none"}); werr != nil {
				return werr
			}
			hint := "" // (not ErrDamaged's: run check)
			if kind == check.KindKey {
				hint = defaultHint(err)
			}
			return withHint(err, hint)
		}
		return err
	}
	defer s.closeInto(ctx, &err)
	sum, err := check.Check(ctx, s.repo, o, out.problem)
	if err != nil {
		return repoError(loc.String(), err)
	}
	if err := out.summary(loc.String(), sum); err != nil {
		return err
	}
	switch {
	case sum.Damage > 0:
		// The problems above say what is affected; no generic hint.
		return withHint(&msgError{msg: fmt.Sprintf("repository %s is damaged: %s, %s (see above)", loc,
			countOf(uint64(sum.Damage), "damage problem", "damage problems"), countOf(uint64(sum.Warnings), "warning", "warnings")), err: repo.ErrDamaged}, "")
	case sum.Warnings > 0:
		return &warningExit{msg: fmt.Sprintf("repository %s: %s (see above)", loc, countOf(uint64(sum.Warnings), "warning", "warnings"))}
	}
	return nil
}

// checkProgress returns a progress function that prints at most every
// half second to stderr.
func (a *app) checkProgress() func(check.Progress) {
	var last time.Time
	return func(p check.Progress) {
		if time.Since(last) < 500*time.Millisecond && p.Done != p.Total {
			return
		}
		last = time.Now()
		fmt.Fprintf(a.stderr, "check: %s %d/%d, %s read\n", p.Phase, p.Done, p.Total, formatSize(uint64(p.Bytes)))
	}
}

// checkOutput prints problems and the summary, as text or JSON lines.
type checkOutput struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	err  error
}

// problemJSON is one problem of check --json.
type problemJSON struct {
	Type      string   `json:"type"` // "problem"
	Severity  string   `json:"severity"`
	Kind      string   `json:"kind"`
	Pack      string   `json:"pack,omitempty"`
	Blob      string   `json:"blob,omitempty"`
	IndexFile string   `json:"index_file,omitempty"`
	Archive   string   `json:"archive,omitempty"`
	Paths     []string `json:"paths,omitempty"`
	Message   string   `json:"message"`
}

// summaryJSON is the last object of check --json.
type summaryJSON struct {
	Type          string  `json:"type"` // "summary"
	Repository    string  `json:"repository"`
	OK            bool    `json:"ok"`
	Damage        int     `json:"damage"`
	Warnings      int     `json:"warnings"`
	PackCheck     string  `json:"pack_check"`
	Packs         int     `json:"packs"`
	PacksTrailer  int     `json:"packs_trailer_checked"`
	PacksRead     int     `json:"packs_read"`
	BytesRead     int64   `json:"bytes_read"`
	BlobsVerified int     `json:"blobs_verified"`
	IndexFiles    int     `json:"index_files"`
	IndexedBlobs  int     `json:"indexed_blobs"`
	Archives      int     `json:"archives"`
	Trees         int     `json:"trees"`
	Seconds       float64 `json:"duration_seconds"`
}

func hexID(v id.ID) string {
	if v.IsNull() {
		return ""
	}
	return v.String()
}

// problem prints one problem (safe for concurrent use).
func (o *checkOutput) problem(p check.Problem) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return
	}
	if !o.json {
		_, o.err = fmt.Fprintln(o.w, p.String())
		return
	}
	o.err = writeJSONLine(o.w, problemJSON{Type: "problem", Severity: p.Severity.String(), Kind: p.Kind,
		Pack: hexID(p.Pack), Blob: hexID(p.Blob), IndexFile: hexID(p.IndexFile), Archive: p.Archive, Paths: p.Paths, Message: p.Message})
}

// summary prints the summary; it returns the first write error.
func (o *checkOutput) summary(loc string, s check.Summary) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if o.json {
		return writeJSONLine(o.w, summaryJSON{Type: "summary", Repository: loc, OK: s.OK(), Damage: s.Damage, Warnings: s.Warnings,
			PackCheck: s.PackCheck, Packs: s.Packs, PacksTrailer: s.PacksTrailer, PacksRead: s.PacksRead, BytesRead: s.BytesRead,
			BlobsVerified: s.BlobsVerified, IndexFiles: s.IndexFiles, IndexedBlobs: s.IndexedBlobs, Archives: s.Archives,
			Trees: s.Trees, Seconds: s.Duration.Seconds()})
	}
	fmt.Fprintf(o.w, "Checked %s: %d packs (%s), %d index files, %d blobs, %d archives, %d trees in %s.\n",
		loc, s.Packs, s.PackCheck, s.IndexFiles, s.IndexedBlobs, s.Archives, s.Trees, s.Duration.Round(time.Millisecond))
	if s.PacksRead > 0 {
		rate := float64(s.BytesRead) / 1e6 / max(s.Duration.Seconds(), 1e-9)
		fmt.Fprintf(o.w, "Read %d packs (%s) and verified %d blobs, %.0f MB/s.\n", s.PacksRead, formatSize(uint64(s.BytesRead)), s.BlobsVerified, rate)
	}
	var err error
	if s.OK() {
		_, err = fmt.Fprintln(o.w, "No problems found.")
	} else {
		_, err = fmt.Fprintf(o.w, "Problems: %d damage, %d warnings.\n", s.Damage, s.Warnings)
	}
	return err
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
