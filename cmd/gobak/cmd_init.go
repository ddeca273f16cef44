package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo"
)

// initFlags are the flags of gobak init.
type initFlags struct {
	encryption    string
	cipher        string
	compression   string
	chunkerParams string
	packSize      string
}

func (a *app) newInitCmd() *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init [flags] REPO",
		Short: "Create a new, empty repository",
		Long: `Create a new, empty repository in the directory REPO, which must not exist
or be empty.

With --encryption repokey (the default) the key, protected by the
passphrase, is stored in the repository; with keyfile it is stored in
$GOBAK_KEYS_DIR (default ~/.config/gobak/keys) instead; none stores data
in the clear (still authenticated against corruption). Keep a copy of the
key ('gobak key export') and the passphrase somewhere safe: without both,
the backups cannot be read.

The passphrase is taken from GOBAK_NEW_PASSPHRASE, GOBAK_PASSPHRASE,
GOBAK_PASSCOMMAND or GOBAK_PASSPHRASE_FD, else asked for twice on the
terminal.`,
		Example: `  gobak init /srv/backup
  gobak init --encryption keyfile --compression zstd,6 /srv/backup`,
		Args: maxArgs(1, "one REPO argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return a.runInit(cmd, args, &f)
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.encryption, "encryption", "e", "repokey", "encryption `MODE`: repokey, keyfile or none")
	fl.StringVar(&f.cipher, "cipher", string(crypto.AES256GCM), "`CIPHER`: aes-256-gcm or chacha20-poly1305")
	fl.StringVarP(&f.compression, "compression", "C", compress.Default().String(), "default `COMPRESSION`: none, lz4, s2, zstd[,LEVEL], auto,C")
	fl.StringVar(&f.chunkerParams, "chunker-params", "", "chunk sizes `MIN,AVG,MAX`, K/M/G are powers of 1024 (default "+compactParams(chunker.DefaultParams())+")")
	fl.StringVar(&f.packSize, "pack-size", "16M", "target pack file `SIZE` (1M to 1G)")
	return cmd
}

// initOptions turns the flags into repository creation options.
func (f *initFlags) initOptions(cmd *cobra.Command) (repo.InitOptions, error) {
	var o repo.InitOptions
	o.Encryption = strings.ToLower(f.encryption)
	switch o.Encryption {
	case "repokey", "keyfile", "none":
	default:
		return o, usagef("--encryption %q: want repokey, keyfile or none", f.encryption)
	}
	suite, err := crypto.ParseSuite(strings.ToLower(f.cipher))
	if err != nil || suite == crypto.None {
		return o, usagef("--cipher %q: want aes-256-gcm or chacha20-poly1305", f.cipher)
	}
	if o.Encryption == "none" {
		if cmd.Flags().Changed("cipher") {
			return o, usagef("--cipher does not apply to --encryption none")
		}
	} else {
		o.Suite = suite
	}
	comp, err := compress.ParseSpec(f.compression)
	if err != nil {
		return o, &usageError{err: fmt.Errorf("--compression: %w", err)}
	}
	o.Compression = comp.String()
	o.Chunker = chunker.DefaultParams()
	if f.chunkerParams != "" {
		if o.Chunker, err = chunker.ParseParams(f.chunkerParams); err != nil {
			return o, &usageError{err: fmt.Errorf("--chunker-params: %w", err)}
		}
	}
	size, err := parseSize(f.packSize)
	if err != nil {
		return o, usagef("--pack-size: %v", err)
	}
	if size < repo.MinPackSize || size > repo.MaxPackSize {
		return o, usagef("--pack-size %s: must be between %s and %s", f.packSize, formatSize(repo.MinPackSize), formatSize(repo.MaxPackSize))
	}
	o.PackSize = uint32(size)
	return o, nil
}

func (a *app) runInit(cmd *cobra.Command, args []string, f *initFlags) (err error) {
	ctx := cmd.Context()
	loc, err := a.repoArg(args)
	if err != nil {
		return err
	}
	o, err := f.initOptions(cmd)
	if err != nil {
		return err
	}
	o.KeysDir = a.keysDir()
	o.CacheDir = a.cacheRoot()
	o.Logger = a.logger
	o.Username = a.username()
	o.KDF = a.kdf()
	if o.Encryption == "keyfile" && o.KeysDir == "" {
		return withHint(errors.New("init: keyfile encryption needs a keys directory, and there is no home directory"), "set GOBAK_KEYS_DIR")
	}

	local := loc.Scheme == "file"
	askPassphrase := func() error {
		if o.Encryption == "none" {
			return nil
		}
		pass, err := a.newPassphrase(ctx, true, errNoPassphrase)
		if err != nil {
			return fmt.Errorf("init %s: %w", loc, err)
		}
		o.Passphrase = func() ([]byte, error) { return pass, nil }
		return nil
	}
	if !local {
		// A layout made on a server is not removed again if init
		// fails, and a second init refuses a directory that is not
		// empty: ask first.
		if err := askPassphrase(); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(loc.Path)
	existed := local && statErr == nil
	be, err := a.storage(ctx, loc, true)
	if err != nil {
		return initCreateError(loc, err)
	}
	defer func() {
		if err != nil && local {
			removeNewRepo(loc.Path, existed)
		}
	}()
	if local {
		// Asked once the directory is known to be usable, before
		// anything is written into it.
		if err := askPassphrase(); err != nil {
			_ = be.Close()
			return err
		}
	}
	r, err := repo.Init(ctx, be, o)
	if err != nil {
		_ = be.Close()
		return repoError(loc.String(), err)
	}
	defer func() {
		if cerr := closeAll(ctx, loc, r, nil, be); cerr != nil && err == nil {
			err = cerr
		}
	}()
	a.printInitSummary(a.stdout, loc, r.Config(), o.KeysDir)
	return nil
}

// initCreateError explains why the repository directory could not be
// made.
func initCreateError(loc location, err error) error {
	if !errors.Is(err, backend.ErrExist) {
		return &msgError{msg: "init " + loc.String() + ": " + strings.TrimPrefix(err.Error(), "init: "), err: err}
	}
	if loc.Scheme != "file" {
		return withHint(&msgError{msg: "init " + loc.String() + ": the directory already exists and is not empty (or is a repository)", err: err},
			"choose a new or empty directory")
	}
	if _, serr := os.Stat(filepath.Join(loc.Path, string(backend.ConfigFile))); serr == nil {
		return withHint(&msgError{msg: "init " + loc.String() + ": a gobak repository already exists there", err: fmt.Errorf("%w: %w", repo.ErrAlreadyExists, err)},
			"use it, or choose another directory")
	}
	if fi, serr := os.Stat(loc.Path); serr == nil && !fi.IsDir() {
		return withHint(&msgError{msg: "init " + loc.String() + ": it exists and is not a directory", err: err},
			"choose a new or empty directory")
	}
	return withHint(&msgError{msg: "init " + loc.String() + ": the directory already exists and is not empty", err: err},
		"choose a new or empty directory")
}

// removeNewRepo undoes local.Create after a failed init: it removes the
// layout directories it made (and the directory itself if it did not exist
// before), unless a config file was written, which makes it a repository.
func removeNewRepo(dir string, existed bool) {
	if _, err := os.Lstat(filepath.Join(dir, string(backend.ConfigFile))); err == nil {
		return
	}
	for _, t := range backend.FileTypes() {
		if t != backend.ConfigFile {
			_ = os.RemoveAll(filepath.Join(dir, string(t)))
		}
	}
	if !existed {
		_ = os.Remove(dir)
	}
}

// printInitSummary tells what was created and reminds the user to keep
// the key and passphrase safe.
func (a *app) printInitSummary(w io.Writer, loc location, cfg repo.Config, keysDir string) {
	fmt.Fprintf(w, "Created repository %s\n", loc)
	fmt.Fprintf(w, "  Repository ID: %s\n", cfg.ID)
	if cfg.Encryption == "none" {
		fmt.Fprintf(w, "  Encryption:    none (data is authenticated but NOT encrypted)\n")
	} else {
		fmt.Fprintf(w, "  Encryption:    %s (%s)\n", cfg.Encryption, cfg.Suite)
		fmt.Fprintf(w, "  Key:           %s\n", keyLocation(loc, cfg, keysDir))
	}
	fmt.Fprintf(w, "  Compression:   %s\n", cfg.Compression)
	fmt.Fprintf(w, "  Chunker:       %s\n", chunkerText(cfg.Chunker))
	fmt.Fprintf(w, "  Pack size:     %s\n", formatSize(uint64(cfg.PackSize)))
	fmt.Fprintln(w)
	if cfg.Encryption == "none" {
		fmt.Fprintln(w, "WARNING: anyone who can read the repository can read the backups.")
		return
	}
	fmt.Fprintln(w, "IMPORTANT: reading these backups needs both the key and the passphrase.")
	fmt.Fprintf(w, "Export a copy of the key now with 'gobak key export %s FILE' and keep it,\n", loc)
	fmt.Fprintln(w, "and the passphrase, somewhere safe outside the repository. If either is lost,")
	fmt.Fprintln(w, "the backups cannot be restored by anyone.")
}

// keyLocation says where the repository's key is kept.
func keyLocation(loc location, cfg repo.Config, keysDir string) string {
	if cfg.Encryption == "repokey" {
		return "in the repository (" + filepath.Join(loc.Path, string(backend.KeyFile)) + ")"
	}
	if m, _ := filepath.Glob(filepath.Join(keysDir, "gobak-"+cfg.ID.String()+"*")); len(m) > 0 {
		return m[0]
	}
	return "in " + keysDir
}

// compactParams renders chunker parameters as ParseParams reads them, in
// whole binary units where possible ("512K,1M,8M").
func compactParams(p chunker.Params) string {
	f := func(n uint32) string {
		switch {
		case n >= 1<<20 && n%(1<<20) == 0:
			return fmt.Sprintf("%dM", n>>20)
		case n >= 1<<10 && n%(1<<10) == 0:
			return fmt.Sprintf("%dK", n>>10)
		}
		return fmt.Sprint(n)
	}
	return f(p.Min) + "," + f(p.Avg) + "," + f(p.Max)
}

// chunkerText renders chunker parameters for people.
func chunkerText(p chunker.Params) string {
	return fmt.Sprintf("min %s, avg %s, max %s", formatSize(uint64(p.Min)), formatSize(uint64(p.Avg)), formatSize(uint64(p.Max)))
}
