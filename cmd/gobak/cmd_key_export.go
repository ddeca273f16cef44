package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func (a *app) newKeyExportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export [flags] REPO [FILE]",
		Short: "Write a copy of the repository's key file",
		Long: `Write a copy of the repository's key file (still protected by its
passphrase) to FILE, or to stdout if FILE is omitted or "-". Restore it with
'gobak key import'. The copy keeps the passphrase it had when exported.`,
		Args: rangeArgs(1, 2, "REPO and an optional FILE"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			loc, err := a.repoArg(args[:1])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := a.openRepo(ctx, loc, sharedLock)
			if err != nil {
				return err
			}
			defer s.closeInto(ctx, &err)
			data, err := s.repo.ExportKey()
			if err != nil {
				return repoError(loc.String(), err)
			}
			if len(args) < 2 || args[1] == "-" {
				_, err := a.stdout.Write(data)
				return err
			}
			if err := writeFileAtomic(args[1], data, 0o600); err != nil {
				return fmt.Errorf("key export: %w", err)
			}
			fmt.Fprintf(a.stdout, "Exported the key of repository %s to %s\n", loc, args[1])
			return nil
		}),
	}
}

// writeFileAtomic writes data to name through a temporary file in the same
// directory, so that name holds either its old content or all of data.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, ".gobak-tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if fi, err := os.Stat(name); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", name)
	}
	return os.Rename(tmp.Name(), name)
}
