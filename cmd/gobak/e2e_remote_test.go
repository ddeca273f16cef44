package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkLostDuringCreate makes a repository at url (whose files the server
// keeps in dir), backs up a small tree, then cuts the connection with
// cut while a large create runs. The create must fail promptly with an
// error (exit 2) naming the repository; once restore has brought the
// server back, the repository must check without damage, the earlier
// archive must extract, and the create must then finish.
func checkLostDuringCreate(t *testing.T, c *cli, url, dir string, cut, restore func()) {
	t.Helper()
	c.ok(withPass, "init", "--pack-size", "1M", "--compression", "none", url)
	small := c.path("small")
	writeFiles(t, small, map[string]string{"keep/me": "precious", "also/this": "too"})
	c.ok(withPass, "create", url+"::before", small)
	big := c.path("big")
	writeFiles(t, big, map[string]string{"big.bin": string(randomBytes(96<<20, 6))})

	cmd := gobakCommand(t, "create", url+"::big", big)
	for k, v := range c.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "GOBAK_PASSPHRASE="+pass)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	n := countFiles(dir, "data/*/*")
	waitFor(t, "10 packs", func() bool { return countFiles(dir, "data/*/*") >= n+10 })
	cut()
	var err error
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("create did not stop after its connection was cut:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("create after the connection was cut: %v, want exit %d\n%s", err, exitError, stderr.String())
	}
	// (ssh may print a line of its own first.)
	msg := strings.TrimSpace(stderr.String())
	if lines := strings.Count(msg, "\n"); !strings.Contains(msg, "gobak: repository "+url) || lines > 1 {
		t.Errorf("want a one-line error naming the repository:\n%s", msg)
	}
	checkNoCrash(t, result{args: cmd.Args[1:], stderr: msg})
	t.Logf("create after the connection was cut: %s", msg)

	restore()
	// Packs of the lost run that no index names are a warning, not damage.
	if r := c.run(withPass, "check", "--verify-data", url); r.code != exitOK && r.code != exitWarning {
		t.Fatalf("check after the lost connection:\n%s", r)
	}
	dest := c.path("dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "extract", "--destination", dest, url+"::before")
	compareTrees(t, small, filepath.Join(dest, strings.TrimPrefix(small, "/")))
	c.ok(withPass, "create", url+"::big", big)
	c.ok(withPass, "check", "--verify-data", url)
	if got := c.ok(withPass, "list", "--short", url).stdout; got != "before\nbig\n" {
		t.Errorf("list: %q", got)
	}
}
