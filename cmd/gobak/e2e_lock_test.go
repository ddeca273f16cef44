package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/repo"
)

// holdLock takes a lock on the repository from the test process, whose
// pid is alive, so gobak sees a lock that is not stale. It is released
// when the test ends.
func holdLock(t *testing.T, path string, exclusive bool) *repo.Lock {
	t.Helper()
	be, err := local.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := repo.AcquireLock(context.Background(), be, exclusive, repo.LockOptions{Username: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Unlock(context.Background()) })
	return l
}

// lockFiles lists a repository's locks/ directory.
func lockFiles(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(path, "locks", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLocks(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")

	// A shared lock of another process does not stop info.
	shared := holdLock(t, path, false)
	c.ok(withPass, "info", "--lock-wait", "0", path)
	if err := shared.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}

	holdLock(t, path, true)
	host, _ := os.Hostname()
	for _, cmd := range [][]string{
		{"info", path},
		{"key", "change-passphrase", path},
		{"key", "export", path},
	} {
		c.fails(append([]string{"GOBAK_NEW_PASSPHRASE=x"}, withPass...),
			[]string{"locked", "exclusive lock", host, "gobak break-lock"},
			append([]string{"--lock-wait", "0"}, cmd...)...)
	}
	if n := len(lockFiles(t, path)); n != 1 {
		t.Errorf("%d lock files after failed commands, want only the held one", n)
	}

	r := c.ok(nil, "-v", "break-lock", path)
	if !strings.Contains(r.stdout, "Removed 1 lock") {
		t.Errorf("break-lock output:\n%s", r)
	}
	if !strings.Contains(r.stderr, "exclusive lock held by pid") {
		t.Errorf("break-lock -v does not name the lock:\n%s", r)
	}
	if n := len(lockFiles(t, path)); n != 0 {
		t.Errorf("%d lock files after break-lock", n)
	}
	c.ok(withPass, "info", "--lock-wait", "0", path)
	if n := len(lockFiles(t, path)); n != 0 {
		t.Errorf("info left %d lock files behind", n)
	}
	c.fails(nil, []string{"not a gobak repository"}, "break-lock", c.dir)
}

func TestInterrupt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	holdLock(t, path, true)

	// info waits for the lock; Ctrl-C (SIGINT) ends it with 130, SIGTERM
	// with 143, one line on stderr and no lock of its own left behind.
	for sig, msg := range map[syscall.Signal]string{syscall.SIGINT: "gobak: interrupted (SIGINT)\n", syscall.SIGTERM: "gobak: terminated (SIGTERM)\n"} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := gobakCommand(t, "--lock-wait", "60", "info", path)
			cmd.Env = []string{"PATH=" + c.vars["PATH"], "HOME=" + c.vars["HOME"],
				"GOBAK_CACHE_DIR=" + c.vars["GOBAK_CACHE_DIR"], "GOBAK_PASSPHRASE=" + pass}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			time.Sleep(500 * time.Millisecond) // let it start waiting
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("gobak did not stop after the signal")
			}
			r := result{args: cmd.Args[1:], stderr: stderr.String()}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				r.code = ee.ExitCode()
			}
			checkNoCrash(t, r)
			if want := exitSignal + int(sig); r.code != want {
				t.Errorf("exit code %d, want %d:\n%s", r.code, want, r)
			}
			if r.stderr != msg {
				t.Errorf("stderr = %q, want %q", r.stderr, msg)
			}
			if n := len(lockFiles(t, path)); n != 1 {
				t.Errorf("%d lock files, want only the held one", n)
			}
		})
	}
}

// TestWatchdog checks the test harness itself: a gobak run that hangs (here
// waiting for a lock) is stopped by the watchdog of gobakCommand with a
// goroutine dump on its standard error, long before its own deadline.
func TestWatchdog(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	holdLock(t, path, true)
	cmd := gobakCommandLimit(t, time.Second, "--lock-wait", "600", "info", path)
	cmd.Env = []string{"PATH=" + c.vars["PATH"], "HOME=" + c.vars["HOME"],
		"GOBAK_CACHE_DIR=" + c.vars["GOBAK_CACHE_DIR"], "GOBAK_PASSPHRASE=" + pass}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	if err == nil {
		t.Fatal("a run waiting 600 s for a lock exited 0 within the watchdog's limit")
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the watchdog stopped the run only after %v", took)
	}
	if !strings.Contains(stderr.String(), "goroutine ") || !strings.Contains(stderr.String(), "SIGQUIT") {
		t.Errorf("no goroutine dump on stderr after the watchdog fired (%v):\n%s", err, stderr.String())
	}
}
