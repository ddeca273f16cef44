// Package sftptest starts a real OpenSSH sshd on 127.0.0.1 for tests of
// the sftp backend and of the gobak command on sftp:// repositories. It
// needs /usr/sbin/sshd (Debian's openssh-server) and, for command mode,
// the ssh client (openssh-client); tests fail, not skip, without them.
package sftptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gobak/gobak/pkg/backend/sftp"
)

const sshdPath = "/usr/sbin/sshd"

// Server is an OpenSSH sshd listening on 127.0.0.1 for the tests, which
// lets the current user log in with ClientKey. Start starts it; it is
// stopped when the test that started it ends.
type Server struct {
	Dir        string        // its config, keys and known_hosts
	Port       string        // the port it listens on, on 127.0.0.1
	User       string        // the login name: the current user
	ClientKey  string        // the private key file that logs in
	KnownHosts string        // a known_hosts file naming HostKey
	HostKey    ssh.PublicKey // its ed25519 host key
	// ECDSAHostKey is the server's second host key, not in KnownHosts.
	ECDSAHostKey ssh.PublicKey
	cmd          *exec.Cmd
	log          *syncBuffer
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

// WriteKey writes a new ed25519 private key to file (OpenSSH format) and
// returns its public key.
func WriteKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// WriteECDSAKey writes a new ECDSA P-256 private key to file and returns
// its public key.
func WriteECDSAKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// Start starts a new sshd for t on a free port and stops it when t
// ends. The test fails (not skips) if sshd is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Fatalf("%s not found (%v): the sftp backend tests need OpenSSH's Server: apt-get install openssh-Server", sshdPath, err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if u.Uid == "0" {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("create sshd privilege separation directory: %v", err)
		}
	}
	s := &Server{Dir: t.TempDir(), User: u.Username, log: &syncBuffer{}}
	hostKeyFile := filepath.Join(s.Dir, "host_ed25519")
	s.HostKey = WriteKey(t, hostKeyFile)
	ecdsaKeyFile := filepath.Join(s.Dir, "host_ecdsa")
	s.ECDSAHostKey = WriteECDSAKey(t, ecdsaKeyFile)
	s.ClientKey = filepath.Join(s.Dir, "id_ed25519")
	clientPub := WriteKey(t, s.ClientKey)
	authorized := filepath.Join(s.Dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}

	for attempt := 0; ; attempt++ {
		s.Port = FreePort(t)
		cfgFile := filepath.Join(s.Dir, "sshd_config")
		cfg := strings.Join([]string{
			"Port " + s.Port,
			"ListenAddress 127.0.0.1",
			"HostKey " + hostKeyFile,
			"HostKey " + ecdsaKeyFile,
			"AuthorizedKeysFile " + authorized,
			"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
			"Subsystem sftp internal-sftp",
			"StrictModes no",
			"UsePAM no",
			"PermitRootLogin yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"MaxStartups 100",
			"MaxSessions 100",
			"LogLevel ERROR",
			"",
		}, "\n")
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		s.cmd = exec.Command(sshdPath, "-D", "-e", "-f", cfgFile)
		s.cmd.Stderr = s.log
		s.cmd.Stdout = s.log
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("start sshd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(exited) }()
		if waitPort(s.Port, exited) {
			t.Cleanup(func() {
				// Sessions are separate processes: stop them too.
				s.SignalSessions(syscall.SIGKILL)
				_ = s.cmd.Process.Kill()
				<-exited
			})
			break
		}
		_ = s.cmd.Process.Kill()
		<-exited
		if attempt == 2 {
			t.Fatalf("sshd did not start listening on 127.0.0.1:%s:\n%s", s.Port, s.log)
		}
	}

	s.KnownHosts = filepath.Join(s.Dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize("127.0.0.1:" + s.Port)}, s.HostKey)
	if err := os.WriteFile(s.KnownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// waitPort waits up to 5 s for port to accept connections; it gives up
// early if exited is closed.
func waitPort(port string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// Config returns a native-client Config for the repository at dir.
func (s *Server) Config(dir string) sftp.Config {
	return sftp.Config{
		User:                s.User,
		Host:                "127.0.0.1",
		Port:                s.Port,
		Path:                dir,
		IdentityFiles:       []string{filepath.Join(s.Dir, "id_missing"), s.ClientKey},
		KnownHostsFiles:     []string{filepath.Join(s.Dir, "known_hosts_missing"), s.KnownHosts},
		ConnectTimeout:      10 * time.Second,
		ServerAliveInterval: time.Second,
	}
}

// CommandConfig returns a Config that runs the system ssh client.
func (s *Server) CommandConfig(t testing.TB, dir string) sftp.Config {
	t.Helper()
	command := append(s.SSHCommand(t),
		"-o", "ServerAliveInterval=1",
		"-o", "ServerAliveCountMax=3",
		"-p", s.Port, "-l", s.User, "127.0.0.1", "-s", "sftp")
	return sftp.Config{
		User:           s.User,
		Host:           "127.0.0.1",
		Port:           s.Port,
		Path:           dir,
		Command:        command,
		Stderr:         testWriter{t},
		ConnectTimeout: 10 * time.Second,
	}
}

// SSHCommand returns the ssh client command line (without the
// destination) that logs in to s using only its own key and known_hosts:
// what GOBAK_RSH holds for the gobak command.
func (s *Server) SSHCommand(t testing.TB) []string {
	t.Helper()
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatalf("ssh client not found (%v): apt-get install openssh-client", err)
	}
	return []string{sshBin, "-F", "/dev/null",
		"-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityFile=" + s.ClientKey,
		"-o", "UserKnownHostsFile=" + s.KnownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes"}
}

// testWriter logs what is written to it.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("ssh: %s", bytes.TrimSpace(p))
	return len(p), nil
}

// Sessions returns the pids of all processes descended from sshd's
// listener: the per-connection processes.
func (s *Server) Sessions() []int {
	parent := make(map[int]int)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
	}
	root := s.cmd.Process.Pid
	var out []int
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// SignalSessions sends sig to every session process of s and returns how
// many there were.
func (s *Server) SignalSessions(sig syscall.Signal) int {
	pids := s.Sessions()
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
	return len(pids)
}
