package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) newKeyChangePassphraseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "change-passphrase [flags] REPO",
		Short: "Protect the repository's key with a new passphrase",
		Long: `Protect the repository's key with a new passphrase. The current passphrase
comes from the usual sources; the new one from GOBAK_NEW_PASSPHRASE, else it
is asked for twice on the terminal. Copies of the key exported before keep
the old passphrase: export the key again afterwards.`,
		Args: maxArgs(1, "one REPO argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			loc, err := a.repoArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := a.openRepo(ctx, loc, sharedLock)
			if err != nil {
				return err
			}
			defer s.closeInto(ctx, &err)
			if s.repo.Config().Encryption == "none" {
				return withHint(fmt.Errorf("repository %s has no key (encryption none)", loc), "nothing to change")
			}
			noNew := withHint(errors.New("no new passphrase"), "set GOBAK_NEW_PASSPHRASE or run on a terminal")
			pass, err := a.newPassphrase(ctx, false, noNew)
			if err != nil {
				return err
			}
			if err := s.repo.ChangePassphrase(ctx, pass, a.kdf()); err != nil {
				return repoError(loc.String(), fmt.Errorf("change passphrase: %w", err))
			}
			fmt.Fprintf(a.stdout, "Changed the passphrase of repository %s.\n", loc)
			fmt.Fprintln(a.stdout, "Key copies exported before still open with the old passphrase: export the key again and replace them.")
			return nil
		}),
	}
}
