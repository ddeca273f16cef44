package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo"
)

// version is the gobak version, set at link time with
// -ldflags "-X main.version=...".
var version = "dev"

// app carries everything a command needs from the outside world, so that
// tests can run commands in-process with their own streams and environment.
// The global flags are fields of app, set by cobra.
type app struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)

	// stdinIsTerminal reports whether passphrases may be prompted for.
	stdinIsTerminal func() bool
	// readPassword prompts on the terminal and reads a line without echo.
	readPassword func(ctx context.Context, prompt string) ([]byte, error)

	// Global flags.
	verbose  int
	lockWait int
	cacheDir string
	kdfTest  bool

	logger *slog.Logger
}

// newApp returns an app reading and writing the given streams. When stdin
// is the process's terminal, passphrases are prompted for on /dev/tty.
func newApp(stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *app {
	a := &app{
		stdin:     stdin,
		stdout:    stdout,
		stderr:    stderr,
		lookupEnv: lookupEnv,
		logger:    slog.New(slog.DiscardHandler),
	}
	a.stdinIsTerminal = func() bool {
		f, ok := stdin.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	a.readPassword = func(ctx context.Context, prompt string) ([]byte, error) {
		return readPasswordTTY(ctx, prompt, a.stderr)
	}
	return a
}

// getenv returns the value of an environment variable, "" if unset.
func (a *app) getenv(key string) string {
	v, _ := a.lookupEnv(key)
	return v
}

// newRootCmd builds the command tree.
func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "gobak",
		Short: "Deduplicating, compressing, encrypting backups",
		Long: `gobak makes deduplicated, compressed and encrypted backups, in the manner of
BorgBackup.

The passphrase is taken from GOBAK_PASSPHRASE, else from the output of
GOBAK_PASSCOMMAND (run with sh -c), else read from the file descriptor
GOBAK_PASSPHRASE_FD, else asked for on the terminal. GOBAK_REPO supplies the
repository when the REPO argument is omitted or an argument starts with "::".

Exit codes: 0 success, 1 warning, 2 error, 128+N killed by signal N.`,
		Version:           version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setup()
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err: err}
	})
	pf := root.PersistentFlags()
	pf.CountVarP(&a.verbose, "verbose", "v", "log what is done to stderr (-v info, -vv debug)")
	pf.IntVar(&a.lockWait, "lock-wait", 1, "wait at most `SECONDS` for a lock held by another process")
	pf.StringVar(&a.cacheDir, "cache-dir", "", "local cache `DIR` (default $GOBAK_CACHE_DIR, else $XDG_CACHE_HOME/gobak, else ~/.cache/gobak)")
	pf.BoolVar(&a.kdfTest, "kdf-test", false, "TESTS ONLY: protect new keys with a trivially weak KDF (also GOBAK_TEST_FAST_KDF=1)")
	_ = pf.MarkHidden("kdf-test")

	root.AddCommand(
		a.newInitCmd(),
		a.newCreateCmd(),
		a.newExtractCmd(), a.newListCmd(), a.newDiffCmd(), a.newExportTarCmd(),
		a.newInfoCmd(),
		a.newKeyCmd(),
		a.newBreakLockCmd(),
		a.newCheckCmd(),
		a.newCompactCmd(),
		a.newDeleteCmd(), a.newRenameCmd(), a.newPruneCmd(),
	)
	return root
}

// setup runs before every command: it checks the global flags and sets up
// logging.
func (a *app) setup() error {
	if a.lockWait < 0 {
		return usagef("--lock-wait %d: must be 0 or more seconds", a.lockWait)
	}
	level := slog.LevelWarn
	switch {
	case a.verbose >= 2:
		level = slog.LevelDebug
	case a.verbose == 1:
		level = slog.LevelInfo
	}
	a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, attr slog.Attr) slog.Attr {
			if len(groups) == 0 && attr.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return attr
		},
	}))
	return nil
}

// runE wraps a command's implementation so that its errors are known to be
// runtime errors, not usage errors.
func runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		var ue *usageError
		if err == nil || errors.As(err, &ue) {
			return err
		}
		return &runtimeError{err: err}
	}
}

// maxArgs is cobra.MaximumNArgs with a usage error naming the arguments.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes %s, got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs with a usage error naming the arguments.
func rangeArgs(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s takes %s, got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// main runs the command line args and returns the exit code, printing any
// error as one line on stderr.
func (a *app) main(ctx context.Context, args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		fmt.Fprintf(a.stderr, "gobak: %s\n", oneLine(se.Error()))
		return exitSignal + int(se.sig)
	}
	var we *warningExit
	if errors.As(err, &we) {
		fmt.Fprintf(a.stderr, "gobak: warning: %s\n", oneLine(we.msg))
		return exitWarning
	}
	var re *runtimeError
	if !errors.As(err, &re) {
		path := "gobak"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		msg := strings.Join(strings.Fields(err.Error()), " ")
		fmt.Fprintf(a.stderr, "gobak: %s; see '%s --help'\n", msg, path)
		return exitError
	}
	fmt.Fprintf(a.stderr, "gobak: %s\n", errorMessage(re.err))
	return exitError
}

// kdf returns the key derivation cost for new key files.
func (a *app) kdf() crypto.KDFParams {
	if a.kdfTest || a.getenv("GOBAK_TEST_FAST_KDF") == "1" {
		return crypto.TestKDF
	}
	return crypto.KDFParams{} // the repository's default
}

// home returns the user's home directory, "" if unknown.
func (a *app) home() string {
	return a.getenv("HOME")
}

// cacheRoot returns the local cache directory: --cache-dir, else
// $GOBAK_CACHE_DIR, else $XDG_CACHE_HOME/gobak, else ~/.cache/gobak. ""
// (no home directory) makes the repository use a temporary cache.
func (a *app) cacheRoot() string {
	switch {
	case a.cacheDir != "":
		return a.cacheDir
	case a.getenv("GOBAK_CACHE_DIR") != "":
		return a.getenv("GOBAK_CACHE_DIR")
	case a.getenv("XDG_CACHE_HOME") != "":
		return filepath.Join(a.getenv("XDG_CACHE_HOME"), "gobak")
	case a.home() != "":
		return filepath.Join(a.home(), ".cache", "gobak")
	}
	return ""
}

// keysDir returns where keyfile-mode keys live: $GOBAK_KEYS_DIR, else
// $XDG_CONFIG_HOME/gobak/keys, else ~/.config/gobak/keys.
func (a *app) keysDir() string {
	switch {
	case a.getenv("GOBAK_KEYS_DIR") != "":
		return a.getenv("GOBAK_KEYS_DIR")
	case a.getenv("XDG_CONFIG_HOME") != "":
		return filepath.Join(a.getenv("XDG_CONFIG_HOME"), "gobak", "keys")
	case a.home() != "":
		return filepath.Join(a.home(), ".config", "gobak", "keys")
	}
	return ""
}

// username names the user in locks and key files.
func (a *app) username() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return a.getenv("USER")
}

// repoOptions returns the options for opening the repository at loc; the
// passphrase is asked for only if a key must be opened.
func (a *app) repoOptions(ctx context.Context, loc location) repo.Options {
	o := repo.Options{
		Passphrase: a.passphraseFunc(ctx, loc),
		KeysDir:    a.keysDir(),
		CacheDir:   a.cacheRoot(),
		Logger:     a.logger,
		Username:   a.username(),
	}
	if loc.remote() {
		o.ReadGap = remoteReadGap
	}
	return o
}

// lockOptions returns the options for taking a lock.
func (a *app) lockOptions() repo.LockOptions {
	return repo.LockOptions{
		Username: a.username(),
		Wait:     time.Duration(a.lockWait) * time.Second,
		Logger:   a.logger,
	}
}
