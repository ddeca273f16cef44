package sftp_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/sftp"
	"github.com/gobak/gobak/pkg/backend/sftp/sftptest"
)

// promptly is how long an operation on a dead connection may take.
const promptly = 20 * time.Second // hang detection; generous for a loaded machine

// waitErr waits up to promptly for an error from ch and fails t if none
// comes or it is nil.
func waitErr(t *testing.T, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		if err == nil {
			t.Fatalf("%s succeeded on a dead connection", what)
		}
		return err
	case <-time.After(promptly):
		t.Fatalf("%s still blocked %v after the connection died", what, promptly)
		return nil
	}
}

// waitTemp waits until a temporary file appears under dir.
func waitTemp(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(promptly)
	for time.Now().Before(deadline) {
		found := false
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
				found = true
			}
			return nil
		})
		if found {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("Save never created its temporary file")
}

// TestLostConnection kills the server side of the session in the middle
// of a Save, of a Load, and freezes it (so that only keepalives can tell),
// for both transports, and checks that the operations fail promptly with
// ErrConnectionLost and that no partial file becomes visible.
func TestLostConnection(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	transports := []struct {
		name string
		cfg  func(t *testing.T, dir string) sftp.Config
	}{
		{"native", func(_ *testing.T, dir string) sftp.Config {
			cfg := s.Config(dir)
			cfg.ServerAliveInterval = 200 * time.Millisecond
			cfg.ServerAliveCountMax = 2
			return cfg
		}},
		{"command", func(t *testing.T, dir string) sftp.Config { return s.CommandConfig(t, dir) }},
	}
	for _, tr := range transports {
		t.Run(tr.name+"/Save", func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			be := newRepo(t, tr.cfg(t, dir))
			defer be.Close()
			h := backend.Handle{Type: backend.PackFile, Name: strings.Repeat("ef", 32)}
			done := make(chan error, 1)
			go func() { done <- be.Save(context.Background(), h, make([]byte, 256<<20)) }()
			waitTemp(t, filepath.Join(dir, "data", "ef"))
			if n := s.SignalSessions(syscall.SIGKILL); n == 0 {
				t.Fatal("no sshd session process found")
			}
			err := waitErr(t, "Save", done)
			if !errors.Is(err, sftp.ErrConnectionLost) {
				t.Errorf("Save: %v, want ErrConnectionLost", err)
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(h.String()))); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("interrupted Save left its final name (%v)", err)
			}
			checkDead(t, be)
		})
		t.Run(tr.name+"/Load", func(t *testing.T) {
			be := newRepo(t, tr.cfg(t, filepath.Join(t.TempDir(), "repo")))
			defer be.Close()
			h := backend.Handle{Type: backend.PackFile, Name: "ab12"}
			if err := be.Save(context.Background(), h, make([]byte, 4<<20)); err != nil {
				t.Fatal(err)
			}
			rd, err := be.Load(context.Background(), h, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			if _, err := io.ReadFull(rd, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			s.SignalSessions(syscall.SIGKILL)
			done := make(chan error, 1)
			go func() {
				_, err := io.ReadAll(rd)
				done <- err
			}()
			err = waitErr(t, "reading a Load", done)
			if !errors.Is(err, sftp.ErrConnectionLost) {
				t.Errorf("read: %v, want ErrConnectionLost", err)
			}
			checkDead(t, be)
		})
	}
	t.Run("native/frozen", func(t *testing.T) {
		be := newRepo(t, transports[0].cfg(t, filepath.Join(t.TempDir(), "repo")))
		defer be.Close()
		if n := s.SignalSessions(syscall.SIGSTOP); n == 0 {
			t.Fatal("no sshd session process found")
		}
		defer s.SignalSessions(syscall.SIGKILL)
		done := make(chan error, 1)
		go func() {
			_, err := be.Stat(context.Background(), backend.Handle{Type: backend.ConfigFile})
			done <- err
		}()
		err := waitErr(t, "Stat on a frozen server", done)
		if !errors.Is(err, sftp.ErrConnectionLost) {
			t.Errorf("Stat: %v, want ErrConnectionLost", err)
		}
		checkDead(t, be)
	})
}

// checkDead checks that later operations on be fail promptly with
// ErrConnectionLost, and that Close returns.
func checkDead(t *testing.T, be *sftp.SFTP) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := be.Stat(context.Background(), backend.Handle{Type: backend.KeyFile, Name: "ab"})
		done <- err
	}()
	if err := waitErr(t, "Stat after the connection died", done); !errors.Is(err, sftp.ErrConnectionLost) {
		t.Errorf("Stat after the connection died: %v, want ErrConnectionLost", err)
	}
	go func() { done <- errors.Join(be.Close(), errors.New("closed")) }()
	waitErr(t, "Close", done)
}
