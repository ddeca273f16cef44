package sftp_test

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend/sftp"
)

// A Command that is a wrapper forking ssh (sshpass, a shell script, ...)
// against a server that accepts the TCP connection but never answers:
// ConnectTimeout (and ctx) must still bound Open. startCommand kills only
// the wrapper and then waits for cmd.Wait, which waits until every process
// holding the stdout/stderr pipes (the orphaned ssh) has exited: Open
// hangs for as long as ssh does (here forever).
func TestReview4WrapperCommandHangsOpen(t *testing.T) {
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accept and stay silent
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	cfg := sftp.Config{
		Host: "127.0.0.1", Port: port, Path: "/repo",
		// A wrapper that does not exec ssh, as sshpass or a script does.
		Command: []string{"sh", "-c", `"$@"; exit $?`, "wrapper",
			ssh, "-F", "/dev/null", "-o", "BatchMode=yes", "-p", port, "127.0.0.1", "-s", "sftp"},
		ConnectTimeout: 2 * time.Second,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		be, err := sftp.Open(ctx, cfg)
		if err == nil {
			be.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("Open failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(10 * time.Second):
		t.Fatalf("sftp.Open with ConnectTimeout 2s and a 4s ctx still running after 10s (wrapper killed, its ssh child keeps the pipes open)")
	}
}

// The same with the plain ssh client whose ssh_config has a ProxyCommand
// (as for a bastion, "ProxyCommand nc %h %p"): the proxy inherits ssh's
// stderr and, like nc without -N, outlives the killed ssh while the
// server stalls. Modelled by a proxy that never answers.
func TestReview4ProxyCommandHangsOpen(t *testing.T) {
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	cfg := sftp.Config{
		Host: "127.0.0.1", Path: "/repo",
		Command: []string{ssh, "-F", "/dev/null", "-o", "BatchMode=yes",
			"-o", "ProxyCommand=sleep 12", "127.0.0.1", "-s", "sftp"},
		ConnectTimeout: 2 * time.Second,
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		be, err := sftp.Open(context.Background(), cfg)
		if err == nil {
			be.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("sftp.Open with ConnectTimeout 2s returned only after %v: %v", d.Round(time.Second), err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sftp.Open still running")
	}
}
