// Package s3test runs a real S3-compatible server, the Versity S3 Gateway
// (versitygw) with its posix backend, on 127.0.0.1 for tests of the s3
// backend and of the gobak command on s3:// repositories.
//
// The versitygw binary is looked up in PATH, then in $(go env GOPATH)/bin.
// Tests fail (they never skip) if it is missing; install it with
//
//	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
package s3test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend/s3"
)

// Credentials of the gateway's root account.
const (
	AccessKey = "gobaktestaccess"
	SecretKey = "gobaktestsecret0123456789"
)

// installHint says how to get the binary.
const installHint = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// startTimeout bounds how long Start waits for the gateway to answer.
const startTimeout = 20 * time.Second

// Server is a versitygw process serving the directory Dir (each
// subdirectory is a bucket) on Endpoint. Start starts it; it is killed
// when the test that started it ends.
type Server struct {
	Endpoint  string // "127.0.0.1:port"
	AccessKey string
	SecretKey string
	Dir       string // the posix backend's root: Dir/bucket/key

	bin    string
	t      testing.TB
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
	log    *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent Write and String.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Binary returns the path of the versitygw binary, or an error that says
// how to install it.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := ""
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopath = strings.TrimSpace(strings.SplitN(string(out), string(os.PathListSeparator), 2)[0])
	}
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("versitygw not found in PATH or at %s: the s3 backend tests need it: %s", p, installHint)
	}
	return p, nil
}

// Start starts a new versitygw for t on a free port of 127.0.0.1 with a
// new temporary root directory, waits until it answers, and kills it when
// t ends. The test fails (not skips) if versitygw is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		AccessKey: AccessKey,
		SecretKey: SecretKey,
		Dir:       t.TempDir(),
		bin:       bin,
		t:         t,
	}
	s.Endpoint = "127.0.0.1:" + freePort(t)
	t.Cleanup(s.Kill)
	s.start()
	return s
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// start runs the gateway and waits until it answers HTTP requests.
func (s *Server) start() {
	t := s.t
	t.Helper()
	log := &syncBuffer{}
	cmd := exec.Command(s.bin,
		"--access", s.AccessKey, "--secret", s.SecretKey,
		"--port", s.Endpoint, "--quiet",
		"posix", s.Dir)
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.log = cmd, exited, log
	s.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get("http://" + s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("versitygw exited at start: %v\n%s", cmd.ProcessState, log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			t.Fatalf("versitygw did not answer on %s within %v: %v\n%s", s.Endpoint, startTimeout, err, log.String())
		}
	}
}

// Kill kills the gateway (SIGKILL) and waits for it to exit. It does
// nothing if it is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited // reaped by the goroutine started in start
}

// Restart starts the gateway again, after Kill, on the same endpoint and
// directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// Log returns what the gateway has printed so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Config returns an s3.Config for bucket and prefix on this server, with
// the root credentials, plain HTTP and short timeouts suited to tests.
func (s *Server) Config(bucket, prefix string) s3.Config {
	return s3.Config{
		Endpoint:        s.Endpoint,
		Bucket:          bucket,
		Prefix:          prefix,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
		Region:          "us-east-1",
		ConnectTimeout:  2 * time.Second,
		IOTimeout:       5 * time.Second,
		MaxAttempts:     3,
	}
}
