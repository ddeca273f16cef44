package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
)

// compactNote tells the user that delete and prune free no space.
const compactNote = "Only archive records were removed; no space is freed until 'gobak compact' runs."

// deleteFlags are the flags of gobak delete.
type deleteFlags struct {
	dryRun, list bool
	glob         string
}

func (a *app) newDeleteCmd() *cobra.Command {
	var f deleteFlags
	cmd := &cobra.Command{
		Use:   "delete [flags] REPO::ARCHIVE [ARCHIVE...] | --glob-archives GLOB REPO",
		Short: "Delete archives",
		Long: `Delete the named archives, or those whose names match --glob-archives.

Only the archive records are removed: the data they referenced stays in the
repository until 'gobak compact' frees what no remaining archive uses.
Deleting a whole repository is not supported; remove its directory.
delete takes an exclusive lock, waiting up to --lock-wait seconds for it.`,
		Example: `  gobak delete /backup/repo::myhost-2026-03-14
  gobak delete /backup/repo::old-1 old-2 old-3
  gobak delete --dry-run --list --glob-archives 'test-*' /backup/repo`,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return a.runDelete(cmd.Context(), args, &f)
		}),
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.dryRun, "dry-run", "n", false, "do not delete anything, only show what would be deleted")
	fl.BoolVar(&f.list, "list", false, "print each archive deleted")
	fl.StringVarP(&f.glob, "glob-archives", "a", "", "delete the archives whose name matches the shell `GLOB`")
	return cmd
}

// runDelete resolves the archives to delete and removes their records.
func (a *app) runDelete(ctx context.Context, args []string, f *deleteFlags) (err error) {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	loc, first, err := a.archiveRef(arg, false)
	if err != nil {
		return err
	}
	var names []string
	if first != "" {
		names = append(names, first)
	}
	if len(args) > 1 {
		names = append(names, args[1:]...)
	}
	switch {
	case f.glob != "" && len(names) > 0:
		return usagef("give archive names or --glob-archives, not both")
	case f.glob == "" && len(names) == 0:
		return usagef("name the archives to delete (REPO::ARCHIVE [ARCHIVE...]) or select them with --glob-archives; deleting a whole repository is not supported")
	}
	for _, n := range names {
		if n == "" {
			return usagef("empty archive name")
		}
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

	var targets []archive.Entry
	var missing []string
	if f.glob != "" {
		if targets, err = archive.MatchGlob(list, f.glob); err != nil {
			return usagef("--glob-archives: %v", err)
		}
	} else {
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			found := false
			for _, e := range list {
				if e.Record.Name == n {
					targets = append(targets, e)
					found = true
				}
			}
			if !found {
				missing = append(missing, n)
			}
		}
	}

	n, err := a.deleteEntries(ctx, s, targets, f.dryRun, f.list, "Deleting archive:", "Would delete archive:")
	a.deleteSummary(n, f.dryRun, "Deleted", "delete")
	if err != nil {
		return err
	}
	if f.glob != "" && len(targets) == 0 {
		fmt.Fprintf(a.stderr, "No archive matches %q.\n", f.glob)
	}
	if len(missing) > 0 {
		return &warningExit{msg: fmt.Sprintf("archive not found in repository %s: %s", loc, quoteList(missing))}
	}
	return nil
}

// deleteEntries removes the records of the given archives (unless dryRun),
// printing a line for each with list. It returns how many it removed (or
// would remove). It stops at the first error, and when the lock is lost.
func (a *app) deleteEntries(ctx context.Context, s *session, entries []archive.Entry, dryRun, list bool, verb, dryVerb string) (int, error) {
	n := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if dryRun {
			if list {
				fmt.Fprintln(a.stdout, archiveLine(dryVerb, e))
			}
			n++
			continue
		}
		if s.lock != nil {
			if err := s.lock.Err(); err != nil {
				return n, repoError(s.loc.String(), fmt.Errorf("lock lost, stopping: %w", err))
			}
		}
		if err := s.repo.DeleteArchive(ctx, e.ID); err != nil {
			return n, repoError(s.loc.String(), fmt.Errorf("delete archive %q: %w", e.Record.Name, err))
		}
		a.logger.Info("archive deleted", "name", e.Record.Name, "id", e.ID.String())
		n++
		if list {
			fmt.Fprintln(a.stdout, archiveLine(verb, e))
		}
	}
	return n, nil
}

// deleteSummary prints how many archive records were (or would be)
// removed, and that compact frees the space.
func (a *app) deleteSummary(n int, dryRun bool, done, would string) {
	if dryRun {
		fmt.Fprintf(a.stdout, "Would %s %d %s (dry run, nothing changed).\n", would, n, plural(n, "archive", "archives"))
		return
	}
	fmt.Fprintf(a.stdout, "%s %d %s. %s\n", done, n, plural(n, "archive", "archives"), compactNote)
}

// archiveLine renders "MESSAGE NAME TIME [ID]" as borg's --list lines: the
// message padded to 40 characters, the name to 36.
func archiveLine(msg string, e archive.Entry) string {
	return fmt.Sprintf("%-40s %-36s %s [%s]", msg, e.Record.Name, listTime(e.Time), e.ID.String())
}

// quoteList renders names as "a", "b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
