package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/repo"
)

// maxKeyFile bounds the key files key import reads.
const maxKeyFile = 64 << 10

func (a *app) newKeyImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import [flags] REPO FILE",
		Short: "Restore a key file exported with 'gobak key export'",
		Long: `Restore a key file exported with 'gobak key export' from FILE (or stdin if
FILE is "-"): into the repository for repokey repositories, into the keys
directory for keyfile ones. The key is checked first: it must belong to
the repository and open with the passphrase.`,
		Args: rangeArgs(2, 2, "REPO and FILE"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			loc, err := a.repoArg(args[:1])
			if err != nil {
				return err
			}
			data, err := a.readKeyFile(args[1])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			be, err := a.openBackend(ctx, loc)
			if err != nil {
				return err
			}
			l, err := a.lock(ctx, loc, be, sharedLock)
			defer func() {
				if cerr := closeAll(ctx, loc, nil, l, be); cerr != nil && err == nil {
					err = cerr
				}
			}()
			if err != nil {
				return err
			}
			if err := repo.ImportKey(ctx, be, a.repoOptions(ctx, loc), data); err != nil {
				err = repoError(loc.String(), err)
				if errors.Is(err, repo.ErrWrongPassphrase) {
					return err
				}
				return withHint(err, "check that "+args[1]+" is a key exported from this repository with 'gobak key export'")
			}
			fmt.Fprintf(a.stdout, "Imported the key from %s into repository %s\n", args[1], loc)
			return nil
		}),
	}
}

// readKeyFile reads a key file to import ("-" is stdin).
func (a *app) readKeyFile(name string) ([]byte, error) {
	var r io.Reader = a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, withHint(fmt.Errorf("key import: %w", err), "name the file written by 'gobak key export'")
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("key import: read %s: %w", name, err)
	}
	if len(data) > maxKeyFile {
		return nil, withHint(fmt.Errorf("key import: %s is larger than %d bytes, too large for a key file", name, maxKeyFile), "name the file written by 'gobak key export'")
	}
	return data, nil
}
