package main

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

func (a *app) newCompactCmd() *cobra.Command {
	var (
		threshold float64
		dryRun    bool
		progress  bool
	)
	cmd := &cobra.Command{
		Use:   "compact [flags] REPO",
		Short: "Free the space of data no archive uses any more",
		Long: `Free the space that deleted and pruned archives leave behind: every blob
reachable from the remaining archives is marked, packs holding nothing
reachable are deleted, and packs whose unreachable share is above the
threshold are rewritten with only their reachable blobs (copied as they are
stored, still compressed and encrypted). New index files are written before
anything is deleted, so an interrupted compact loses nothing; run it again
to finish. compact takes an exclusive lock.

compact refuses to run if any archive record or tree cannot be read:
deleting data while what is reachable is unknown could lose data. Run
'gobak check' first.`,
		Args: maxArgs(1, "one REPO argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			if threshold < 0 || threshold > 100 || math.IsNaN(threshold) {
				return usagef("--threshold %v: must be a percentage from 0 to 100", threshold)
			}
			loc, err := a.repoArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := a.openRepo(ctx, loc, exclusiveLock)
			if err != nil {
				return err
			}
			defer s.closeInto(ctx, &err)
			list, bad, err := archive.ListArchives(ctx, s.repo)
			if err != nil {
				return repoError(loc.String(), fmt.Errorf("list archives: %w", err))
			}
			if len(bad) > 0 {
				ids := make([]string, 0, len(bad))
				var first error
				for aid, e := range bad {
					ids = append(ids, aid.Short())
					if first == nil {
						first = e
					}
				}
				sort.Strings(ids)
				return repoError(loc.String(), fmt.Errorf("compact refused: %d archive %s cannot be read (%s: %w); nothing was changed, run 'gobak check'",
					len(bad), plural(len(bad), "record", "records"), strings.Join(ids, ", "), first))
			}
			o := repo.CompactOptions{
				Threshold: threshold / 100,
				DryRun:    dryRun,
				Logger:    a.logger,
				Used: func(mark func(id.ID) (bool, error)) error {
					return archive.UsedBlobs(ctx, s.repo, list, mark)
				},
			}
			if o.Threshold == 0 {
				o.Threshold = math.SmallestNonzeroFloat64
			}
			if progress {
				o.Progress = func(p repo.CompactProgress) {
					if p.Total > 0 {
						fmt.Fprintf(a.stderr, "compact: %s %d/%d\n", p.Phase, p.Done, p.Total)
					} else {
						fmt.Fprintf(a.stderr, "compact: %s\n", p.Phase)
					}
				}
			}
			res, err := s.repo.Compact(ctx, o)
			if err != nil {
				if errors.Is(err, repo.ErrBlobNotFound) || errors.Is(err, archive.ErrMalformed) || errors.Is(err, repo.ErrDamaged) {
					err = fmt.Errorf("compact refused, nothing was deleted: %w", err)
				}
				return repoError(loc.String(), err)
			}
			a.printCompact(loc, len(list), res)
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.Float64Var(&threshold, "threshold", 10, "repack packs with more than `PCT` percent unused bytes")
	fl.BoolVarP(&dryRun, "dry-run", "n", false, "only show what would be freed")
	fl.BoolVarP(&progress, "progress", "p", false, "show progress on stderr")
	return cmd
}

// printCompact prints compact's summary.
func (a *app) printCompact(loc location, archives int, res *repo.CompactResult) {
	verb := "Freed"
	if res.DryRun {
		verb = "Would free"
	}
	fmt.Fprintf(a.stdout, "Repository %s: %d %s kept\n", loc, archives, plural(archives, "archive", "archives"))
	fmt.Fprintf(a.stdout, "%s %s (%d bytes): %d packs deleted, %d repacked into %d, %d orphan packs deleted, %d blobs (%s) copied\n",
		verb, humanize.IBytes(uint64(max(res.BytesFreed, 0))), res.BytesFreed, res.PacksDeleted, res.PacksRepacked, res.PacksWritten,
		res.OrphansDeleted, res.BlobsCopied, humanize.IBytes(res.BytesCopied))
	fmt.Fprintf(a.stdout, "Still unused: %s (%d bytes) in packs below the threshold; used: %s\n",
		humanize.IBytes(res.BytesUnusedLeft), res.BytesUnusedLeft, humanize.IBytes(res.BytesUsed))
}
