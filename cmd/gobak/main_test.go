package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gobakBin is the binary built once by TestMain for the end-to-end tests.
var gobakBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gobak-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	gobakBin = filepath.Join(dir, "gobak")
	build := exec.Command("go", "build", "-o", gobakBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gobak:", err)
		return 2
	}
	return m.Run()
}

// cmdLimit is how long one gobak run of a test may take before the
// watchdog of gobakCommand asks it for a goroutine dump. The longest run of
// the suite takes a few seconds; on a loaded machine, ten times that.
const cmdLimit = 2 * time.Minute

// gobakCommand returns a command running the gobak binary with args under
// a watchdog: a run still going after cmdLimit gets SIGQUIT, so that the Go
// runtime prints every goroutine on its standard error (which the test
// reports) and exits, instead of hanging the whole package until the
// go test timeout; 20 s later it is killed.
func gobakCommand(t testing.TB, args ...string) *exec.Cmd {
	return gobakCommandLimit(t, cmdLimit, args...)
}

// gobakCommandLimit is gobakCommand with the watchdog set to limit.
func gobakCommandLimit(t testing.TB, limit time.Duration, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, gobakBin, args...)
	cmd.Cancel = func() error {
		if ctx.Err() == context.DeadlineExceeded {
			fmt.Fprintf(os.Stderr, "watchdog: gobak %s still running after %v: sent SIGQUIT for a goroutine dump\n", strings.Join(args, " "), limit)
		}
		return cmd.Process.Signal(syscall.SIGQUIT)
	}
	cmd.WaitDelay = 20 * time.Second
	return cmd
}

// cli runs the gobak binary in a private environment: its own HOME, cache
// directory and the fast test KDF, and nothing inherited from the
// environment of the test but PATH.
type cli struct {
	t    *testing.T
	dir  string            // scratch directory of the test
	vars map[string]string // environment of every run
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	return &cli{t: t, dir: dir, vars: map[string]string{
		"PATH":                os.Getenv("PATH"),
		"HOME":                filepath.Join(dir, "home"),
		"GOBAK_CACHE_DIR":     filepath.Join(dir, "cache"),
		"GOBAK_TEST_FAST_KDF": "1",
	}}
}

// with returns a copy of c that reports to t (for subtests).
func (c *cli) with(t *testing.T) *cli {
	cc := *c
	cc.t = t
	return &cc
}

// path returns a path inside the test's scratch directory.
func (c *cli) path(name string) string { return filepath.Join(c.dir, name) }

// result is the outcome of one run.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("gobak %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runOpts adjust one run.
type runOpts struct {
	env   map[string]string // added to (or, with value "\x00", removed from) c.vars
	extra []*os.File        // cmd.ExtraFiles (fd 3, 4, ...)
	stdin string
	dir   string // working directory ("" = the test's)
}

// run runs gobak with args and the test environment plus env ("K=V").
func (c *cli) run(env []string, args ...string) result {
	c.t.Helper()
	o := runOpts{env: map[string]string{}}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		o.env[k] = v
	}
	return c.runWith(o, args...)
}

func (c *cli) runWith(o runOpts, args ...string) result {
	c.t.Helper()
	cmd := gobakCommand(c.t, args...)
	vars := map[string]string{}
	for k, v := range c.vars {
		vars[k] = v
	}
	for k, v := range o.env {
		if v == "\x00" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	cmd.Env = []string{}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(o.stdin)
	cmd.ExtraFiles = o.extra
	cmd.Dir = o.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		c.t.Fatalf("run gobak %v: %v\n%s", args, err, r)
	}
	checkNoCrash(c.t, r)
	return r
}

// checkNoCrash fails the test if gobak printed a Go stack trace.
func checkNoCrash(t *testing.T, r result) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", "runtime error"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr contains %q:\n%s", bad, r)
		}
	}
}

// ok runs gobak and fails the test unless it exits 0.
func (c *cli) ok(env []string, args ...string) result {
	c.t.Helper()
	r := c.run(env, args...)
	if r.code != 0 {
		c.t.Fatalf("want exit 0:\n%s", r)
	}
	return r
}

// fails runs gobak and checks that it exits 2 with one line on stderr,
// "gobak: ...", containing every string of want (case-insensitive).
func (c *cli) fails(env []string, want []string, args ...string) result {
	c.t.Helper()
	r := c.run(env, args...)
	checkError(c.t, r, want...)
	return r
}

// checkError checks that r is a one-line error with exit code 2.
func checkError(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != exitError {
		t.Errorf("want exit %d:\n%s", exitError, r)
	}
	if !strings.HasPrefix(r.stderr, "gobak: ") || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("want one line \"gobak: ...\" on stderr:\n%s", r)
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(w)) {
			t.Errorf("stderr lacks %q:\n%s", w, r)
		}
	}
}

// pass is the passphrase of the test repositories.
const pass = "test passphrase"

// withPass is the environment giving the test passphrase.
var withPass = []string{"GOBAK_PASSPHRASE=" + pass}

// initRepo creates a repokey repository and returns its path.
func (c *cli) initRepo(name string, flags ...string) string {
	c.t.Helper()
	repo := c.path(name)
	c.ok(withPass, append(append([]string{"init"}, flags...), repo)...)
	return repo
}
