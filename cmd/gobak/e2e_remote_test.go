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

// checkRemoteSession runs a borg-style session on a new repository at url,
// whose files the server keeps in dir: init (a second init is refused with
// every string of initRefused), two creates, list, extract byte-exact,
// check --verify-data, the same repository opened through dir as a local
// path, then delete, compact and check again.
func checkRemoteSession(t *testing.T, c *cli, url, dir string, initRefused ...string) {
	t.Helper()
	src := c.path("src")
	writeFiles(t, src, map[string]string{
		"etc/app.conf": "setting=1\n",
		"data/big.bin": string(randomBytes(5<<20, 11)),
		"data/empty":   "",
	})
	c.ok(withPass, "init", url)
	c.fails(withPass, initRefused, "init", url)
	c.ok(withPass, "create", url+"::one", src)
	writeFiles(t, src, map[string]string{"etc/app.conf": "setting=2\n"})
	c.ok(withPass, "create", url+"::two", src)
	if got := c.ok(withPass, "list", "--short", url).stdout; got != "one\ntwo\n" {
		t.Errorf("list: %q", got)
	}
	dest := c.path("dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "extract", "--destination", dest, url+"::two")
	compareTrees(t, src, filepath.Join(dest, strings.TrimPrefix(src, "/")))
	c.ok(withPass, "check", "--verify-data", url)

	// What the server stored is the same repository as a local path. (S3
	// has no empty directories: those of the layout are made first, as
	// for a copy of a bucket; on SFTP they are there already.)
	for _, d := range []string{"locks", "index", "keys", "archives", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.ok(withPass, "list", "--short", dir).stdout; got != "one\ntwo\n" {
		t.Errorf("list of the server's files as a local path: %q", got)
	}
	c.ok(withPass, "check", "--verify-data", dir)

	// Retention and compaction work remotely too.
	c.ok(withPass, "delete", url+"::one")
	c.ok(withPass, "compact", url)
	c.ok(withPass, "check", "--verify-data", url)
}

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
