package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend/sftp/sftptest"
)

// Ctrl-C at a terminal sends SIGINT to the whole foreground process
// group: gobak and the ssh it runs for an sftp:// repository. ssh dies at
// once, so gobak's orderly shutdown (flush the index of what was uploaded,
// remove its lock) cannot reach the server: the lock stays on the
// repository. With a local repository the same Ctrl-C leaves no lock
// (TestCreateKilled). borg runs ssh so that it ignores the terminal's
// SIGINT for this reason.
func TestReview4SFTPCtrlCLeavesLock(t *testing.T) {
	srv := sftptest.Start(t)
	remote := filepath.Join(t.TempDir(), "remote")
	c, url := sftpCLI(t, srv, remote)
	c.ok(withPass, "init", "--pack-size", "1M", "--compression", "none", url)

	cmd := gobakCommand(t, "create", url+"::big", "-")
	for k, v := range c.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "GOBAK_PASSPHRASE="+pass)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // like a job of an interactive shell
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd.Stdin = pr
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	go func() { _, _ = pw.Write(randomBytes(8<<20, 5)) }()
	waitFor(t, "a pack and the lock", func() bool {
		return countFiles(remote, "data/*/*") > 0 && len(lockFiles(t, remote)) > 0
	})
	time.Sleep(200 * time.Millisecond)
	// The terminal's Ctrl-C: SIGINT to the process group.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("gobak did not stop after Ctrl-C:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("create after Ctrl-C: %v", err)
	}
	if n := len(lockFiles(t, remote)); n != 0 || ee.ExitCode() != exitSignal+int(syscall.SIGINT) {
		t.Errorf("after Ctrl-C: exit %d, %d lock file(s) left on the sftp repository; stderr:\n%s", ee.ExitCode(), n, strings.TrimSpace(stderr.String()))
	}
}
