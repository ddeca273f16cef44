package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gobak/gobak/pkg/backend/sftp/sftptest"
)

// sftpCLI returns a cli whose gobak runs reach srv through the ssh client
// (GOBAK_RSH), and the sftp:// URL of dir on srv.
func sftpCLI(t *testing.T, srv *sftptest.Server, dir string) (*cli, string) {
	c := newCLI(t)
	c.vars["GOBAK_RSH"] = strings.Join(srv.SSHCommand(t), " ")
	return c, fmt.Sprintf("sftp://%s@127.0.0.1:%s%s", srv.User, srv.Port, dir)
}

// TestSFTPRepository runs a borg-style session on a repository on a real
// sshd, through the ssh client and through the built-in client, and
// checks that the directory on the server is the same repository when
// opened as a local path.
func TestSFTPRepository(t *testing.T) {
	t.Parallel()
	srv := sftptest.Start(t)
	remote := filepath.Join(t.TempDir(), "remote")
	c, url := sftpCLI(t, srv, remote)
	checkRemoteSession(t, c, url, remote, "already exists", "not empty")

	// Without an ssh client, the built-in client uses ~/.ssh.
	native := newCLI(t)
	native.vars["PATH"] = "/nonexistent"
	sshDir := filepath.Join(native.vars["HOME"], ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, srv.ClientKey, filepath.Join(sshDir, "id_ed25519"))
	copyFile(t, srv.KnownHosts, filepath.Join(sshDir, "known_hosts"))
	if got := native.ok(withPass, "list", "--short", url).stdout; got != "two\n" {
		t.Errorf("list through the built-in client: %q", got)
	}
	// A host key that is not the server's is refused, naming the file.
	other := sftptest.Start(t)
	known, err := os.ReadFile(other.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	known = bytes.Replace(known, []byte(":"+other.Port+"]"), []byte(":"+srv.Port+"]"), 1)
	if err := os.WriteFile(filepath.Join(sshDir, "known_hosts"), known, 0o600); err != nil {
		t.Fatal(err)
	}
	native.fails(withPass, []string{"host key", "known_hosts"}, "list", url)

	// A repository that is not there, and a server that is not there.
	c.fails(withPass, []string{"does not exist"}, "list", url+"-missing")
	c.fails(withPass, []string{"sftp://"}, "list", fmt.Sprintf("sftp://127.0.0.1:%s/x", sftptest.FreePort(t)))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSFTPConnectionLost kills the SSH session under a running create
// (see checkLostDuringCreate).
func TestSFTPConnectionLost(t *testing.T) {
	t.Parallel()
	srv := sftptest.Start(t)
	remote := filepath.Join(t.TempDir(), "remote")
	c, url := sftpCLI(t, srv, remote)
	cut := func() {
		if srv.SignalSessions(syscall.SIGKILL) == 0 {
			t.Fatal("no ssh session to kill")
		}
	}
	checkLostDuringCreate(t, c, url, remote, cut, func() {})
}
