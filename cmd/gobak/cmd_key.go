package main

import (
	"github.com/spf13/cobra"
)

func (a *app) newKeyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Export, import and change the passphrase of repository keys",
		Long: `Manage the key that encrypts a repository. The key file is protected by the
passphrase; reading the backups needs both. Keep an exported copy of the key
somewhere safe outside the repository.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q (want export, import or change-passphrase)", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newKeyExportCmd(), a.newKeyImportCmd(), a.newKeyChangePassphraseCmd())
	return cmd
}
