package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/repo"
)

func (a *app) newBreakLockCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "break-lock [flags] REPO",
		Short: "Remove all locks of a repository",
		Long: `Remove every lock file of the repository, held or not. Use it only when no
gobak process uses the repository any more, for example after a crash on
another machine. Stale locks (of a process that is gone on this host, or not
refreshed for 30 minutes) are removed automatically anyway.`,
		Args: maxArgs(1, "one REPO argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			loc, err := a.repoArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			be, err := a.openBackend(ctx, loc)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := closeAll(ctx, loc, nil, nil, be); cerr != nil && err == nil {
					err = cerr
				}
			}()
			if locks, err := repo.Locks(ctx, be, ""); err == nil {
				for _, l := range locks {
					a.logger.Info("removing lock", "lock", l.String())
				}
			}
			n, err := repo.BreakLocks(ctx, be)
			if err != nil {
				return repoError(loc.String(), fmt.Errorf("break-lock: removed %d locks, then: %w", n, err))
			}
			fmt.Fprintf(a.stdout, "Removed %d %s from repository %s\n", n, plural(n, "lock", "locks"), loc)
			return nil
		}),
	}
}

// plural returns one or many according to n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
