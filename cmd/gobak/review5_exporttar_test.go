package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An existing FILE is replaced by a new file with mode 0666&^umask: a
// tar the user had made private (0600) becomes world-readable, with the
// whole backup's content. borg and GNU tar open FILE for writing and keep
// its mode.
func TestReview5ExportTarKeepsExistingMode(t *testing.T) {
	c := newCLI(t)
	path := c.initRepo("repo")
	c.writeArchive(path, "a", time.Now(), []libEntry{libFile("secret", "the keys")})
	out := c.path("private.tar")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "export-tar", path+"::a", out)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %#o after export-tar, was 0600", filepath.Base(out), fi.Mode().Perm())
	}
}

// FILE is a dangling symlink: the help says the file it names is written
// and the link stays; instead the link itself is replaced by the tar.
func TestReview5ExportTarDanglingSymlink(t *testing.T) {
	c := newCLI(t)
	path := c.initRepo("repo")
	c.writeArchive(path, "a", time.Now(), []libEntry{libFile("f", "data")})
	link := c.path("link.tar")
	if err := os.Symlink("real.tar", link); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "export-tar", path+"::a", link)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.tar -> real.tar: no longer a symlink after export-tar (mode %v, %v)", fi.Mode(), err)
	}
	if _, err := os.Stat(c.path("real.tar")); err != nil {
		t.Errorf("real.tar not written: %v", err)
	}
}

// A FILE whose name is as long as the file system allows (255 bytes) is
// refused: the temporary name FILE.tmp-XXXXXXXX is 13 bytes longer.
func TestReview5ExportTarLongFileName(t *testing.T) {
	c := newCLI(t)
	path := c.initRepo("repo")
	c.writeArchive(path, "a", time.Now(), []libEntry{libFile("f", "data")})
	name := strings.Repeat("n", 255-len(".tar")) + ".tar"
	out := c.path(name)
	if f, err := os.Create(out); err != nil {
		t.Skipf("file system refuses a 255-byte name: %v", err)
	} else {
		f.Close()
		os.Remove(out)
	}
	res := c.run(withPass, "export-tar", path+"::a", out)
	if res.code != 0 {
		t.Errorf("export-tar to a 255-byte FILE name: exit %d: %s", res.code, strings.TrimSpace(res.stderr))
	}
}

// FILE is a FIFO nobody reads yet: export-tar blocks in open(2) (holding
// the repository's lock), and Ctrl-C does not stop it: the signal only
// cancels a context nobody is watching, so it takes a second Ctrl-C (a
// kill) to get out.
func TestReview5ExportTarFIFOInterrupt(t *testing.T) {
	c := newCLI(t)
	path := c.initRepo("repo")
	c.writeArchive(path, "a", time.Now(), []libEntry{libFile("f", "data")})
	fifo := c.path("fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := gobakCommand(t, "export-tar", path+"::a", fifo)
	for k, v := range c.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, withPass...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the repository is open, FILE is being opened
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 130 {
			t.Errorf("exit %d after SIGINT, want 130; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("export-tar to a FIFO without reader still running 15s after SIGINT")
	}
}
