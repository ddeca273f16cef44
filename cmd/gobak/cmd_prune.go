package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/prune"
)

// pruneFlags are the flags of gobak prune.
type pruneFlags struct {
	dryRun, list, stats, asJSON bool
	within, glob                string
	policy                      prune.Policy
}

func (a *app) newPruneCmd() *cobra.Command {
	var f pruneFlags
	cmd := &cobra.Command{
		Use:   "prune [flags] REPO",
		Short: "Delete the archives a retention policy does not keep",
		Long: `Delete the archives that no --keep rule keeps, exactly as BorgBackup 1.2's
prune does.

Archives are taken newest first. --keep-within keeps every archive younger
than the interval (a number and H, d, w, m = 31 days or y = 365 days). Then
the rules run from the finest to the coarsest: secondly (--keep-last is the
same rule), minutely, hourly, daily, weekly (ISO weeks), monthly, yearly.
Each rule keeps the newest archive of each period, computed in the local
time zone (TZ), until it has kept N archives; an archive kept by an earlier
rule uses up its period without counting for the later rule. A negative N
is unlimited. A rule that runs out of archives before N also keeps the
oldest archive ("monthly[oldest]").

Only archive records are removed: no space is freed until 'gobak compact'
runs. prune takes an exclusive lock, waiting up to --lock-wait seconds.`,
		Example: `  gobak prune --list --keep-daily 7 --keep-weekly 4 --keep-monthly 6 /backup/repo
  gobak prune --dry-run --list --keep-within 2d --glob-archives 'myhost-*' /backup/repo`,
		Args: maxArgs(1, "REPO"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("keep-last") && cmd.Flags().Changed("keep-secondly") && f.policy.Last != f.policy.Secondly {
				return usagef("--keep-last and --keep-secondly are the same rule; give one of them")
			}
			return a.runPrune(cmd.Context(), args, &f)
		}),
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.dryRun, "dry-run", "n", false, "do not delete anything, only show what would be pruned")
	fl.BoolVar(&f.list, "list", false, "print every archive, kept (and by which rule) or pruned")
	fl.BoolVarP(&f.stats, "stats", "s", false, "print how many archives were kept and pruned, and their sizes")
	fl.BoolVar(&f.asJSON, "json", false, "print the decisions as JSON")
	fl.StringVar(&f.within, "keep-within", "", "keep all archives younger than `INTERVAL` (e.g. 36H, 7d, 2w, 1m, 1y)")
	p := &f.policy
	fl.IntVar(&p.Last, "keep-last", 0, "keep the last `N` archives (same as --keep-secondly)")
	fl.IntVar(&p.Secondly, "keep-secondly", 0, "keep `N` secondly archives")
	fl.IntVar(&p.Minutely, "keep-minutely", 0, "keep `N` minutely archives")
	fl.IntVarP(&p.Hourly, "keep-hourly", "H", 0, "keep `N` hourly archives")
	fl.IntVarP(&p.Daily, "keep-daily", "d", 0, "keep `N` daily archives")
	fl.IntVarP(&p.Weekly, "keep-weekly", "w", 0, "keep `N` weekly archives")
	fl.IntVarP(&p.Monthly, "keep-monthly", "m", 0, "keep `N` monthly archives")
	fl.IntVarP(&p.Yearly, "keep-yearly", "y", 0, "keep `N` yearly archives")
	fl.StringVarP(&f.glob, "glob-archives", "a", "", "only consider archives whose name matches the shell `GLOB`")
	return cmd
}

// pruneArchiveJSON is one archive in prune --json.
type pruneArchiveJSON struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Time   string `json:"time"`
	Kept   bool   `json:"kept"`
	Rule   string `json:"rule,omitempty"`
	N      int    `json:"n,omitempty"`
	Oldest bool   `json:"oldest,omitempty"`
}

// pruneJSON is the output of prune --json.
type pruneJSON struct {
	Repository struct {
		ID       string `json:"id"`
		Location string `json:"location"`
	} `json:"repository"`
	DryRun   bool               `json:"dry_run"`
	Archives []pruneArchiveJSON `json:"archives"`
	Kept     int                `json:"kept"`
	Pruned   int                `json:"pruned"`
	Deleted  int                `json:"deleted"`
	Note     string             `json:"note"`
}

// runPrune applies the policy and deletes the records of what it prunes.
func (a *app) runPrune(ctx context.Context, args []string, f *pruneFlags) (err error) {
	loc, err := a.repoArg(args)
	if err != nil {
		return err
	}
	p := f.policy
	if f.within != "" {
		if p.Within, err = prune.ParseWithin(f.within); err != nil {
			return usagef("--keep-within: %v", err)
		}
	}
	if p.Empty() {
		return usagef("prune needs at least one of --keep-within, --keep-last, --keep-secondly, --keep-minutely, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly or --keep-yearly (a non-zero count); without a rule it would delete every archive")
	}

	s, err := a.openRepo(ctx, loc, exclusiveLock)
	if err != nil {
		return err
	}
	defer s.closeInto(ctx, &err)
	list, err := a.archiveList(ctx, s)
	if err != nil {
		return err
	}
	if f.glob != "" {
		if list, err = archive.MatchGlob(list, f.glob); err != nil {
			return usagef("--glob-archives: %v", err)
		}
	}

	byID := make(map[id.ID]archive.Entry, len(list))
	in := make([]prune.Archive, len(list))
	for i, e := range list {
		byID[e.ID] = e
		in[i] = prune.Archive{Name: e.Record.Name, Time: e.Time, ID: e.ID}
	}
	decisions := prune.Apply(in, p, time.Now(), time.Local)

	var doomed []archive.Entry
	kept := 0
	var keptSize, prunedSize uint64
	for _, d := range decisions {
		e := byID[d.Archive.ID]
		if d.Keep {
			kept++
			keptSize += e.Record.Stats.OriginalSize
		} else {
			doomed = append(doomed, e)
			prunedSize += e.Record.Stats.OriginalSize
		}
	}

	// With --list, print every archive in order, deleting as we go (as
	// borg does); otherwise delete quietly.
	// borg's words: "Would prune:" in a dry run, else "Pruning archive
	// (i/n):".
	deleted := 0
	var delErr error
	for _, d := range decisions {
		e := byID[d.Archive.ID]
		if d.Keep {
			if f.list && !f.asJSON {
				fmt.Fprintln(a.stdout, archiveLine(fmt.Sprintf("Keeping archive (rule: %s #%d):", d.Label(), d.N), e))
			}
			continue
		}
		verb := fmt.Sprintf("Pruning archive (%d/%d):", deleted+1, len(doomed))
		n, err := a.deleteEntries(ctx, s, []archive.Entry{e}, f.dryRun, f.list && !f.asJSON, verb, "Would prune:")
		deleted += n
		if err != nil {
			delErr = err
			break
		}
	}
	if f.dryRun {
		deleted = 0
	}

	if f.asJSON {
		out := pruneJSON{DryRun: f.dryRun, Archives: []pruneArchiveJSON{}, Kept: kept, Pruned: len(doomed), Deleted: deleted, Note: compactNote}
		cfg := s.repo.Config()
		out.Repository.ID, out.Repository.Location = cfg.ID.String(), loc.String()
		for _, d := range decisions {
			out.Archives = append(out.Archives, pruneArchiveJSON{
				Name: d.Archive.Name, ID: d.Archive.ID.String(), Time: isoTime(d.Archive.Time),
				Kept: d.Keep, Rule: d.Rule, N: d.N, Oldest: d.Oldest,
			})
		}
		if err := writeJSON(a.stdout, out); err != nil {
			return errors.Join(delErr, err)
		}
		return delErr
	}

	if f.stats {
		fmt.Fprintf(a.stdout, "Kept %d %s (original size %s), pruned %d %s (original size %s).\n",
			kept, plural(kept, "archive", "archives"), formatSize(keptSize),
			len(doomed), plural(len(doomed), "archive", "archives"), formatSize(prunedSize))
	}
	if f.dryRun {
		fmt.Fprintf(a.stdout, "Would prune %d %s (dry run, nothing changed).\n", len(doomed), plural(len(doomed), "archive", "archives"))
	} else {
		fmt.Fprintf(a.stdout, "Pruned %d %s. %s\n", deleted, plural(deleted, "archive", "archives"), compactNote)
	}
	return delErr
}
