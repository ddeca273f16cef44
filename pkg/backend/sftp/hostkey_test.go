package sftp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/sftp"
	"github.com/gobak/gobak/pkg/backend/sftp/sftptest"
)

func TestHostKeys(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	addr := knownhosts.Normalize("127.0.0.1:" + s.Port)
	otherKey := sftptest.WriteKey(t, filepath.Join(t.TempDir(), "other"))
	tests := []struct {
		name      string
		lines     []string // known_hosts content; nil: no file at all
		wantErr   error    // nil: success
		wantInErr []string
	}{
		{"ed25519 known", []string{knownhosts.Line([]string{addr}, s.HostKey)}, nil, nil},
		{"only ecdsa known", []string{knownhosts.Line([]string{addr}, s.ECDSAHostKey)}, nil, nil},
		{"hashed entry", []string{knownhosts.Line([]string{knownhosts.HashHostname(addr)}, s.HostKey)}, nil, nil},
		{"other hosts only", []string{
			knownhosts.Line([]string{"example.org"}, s.HostKey),
			knownhosts.Line([]string{"127.0.0.1"}, s.HostKey), // port 22, not ours
		}, sftp.ErrUnknownHost, []string{"known_hosts", "ssh -p " + s.Port}},
		{"changed", []string{
			"# comment",
			knownhosts.Line([]string{addr}, otherKey),
		}, sftp.ErrHostKeyChanged, []string{"known_hosts:2", "ssh-keygen -R"}},
		{"no file", nil, sftp.ErrUnknownHost, []string{"known_hosts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kh := filepath.Join(dir, "known_hosts")
			if tt.lines != nil {
				if err := os.WriteFile(kh, []byte(strings.Join(tt.lines, "\n")+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := s.Config(filepath.Join(dir, "repo"))
			cfg.KnownHostsFiles = []string{kh}
			be, err := sftp.Create(context.Background(), cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				be.Close()
				return
			}
			if err == nil {
				be.Close()
				t.Fatal("Create succeeded, want a host key error")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create: %v, want %v", err, tt.wantErr)
			}
			for _, want := range tt.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if _, serr := os.Stat(filepath.Join(dir, "repo")); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("repository created despite the host key error (%v)", serr)
			}
		})
	}
}

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	dir := t.TempDir()
	stranger := filepath.Join(dir, "stranger")
	sftptest.WriteKey(t, stranger)
	// A passphrase-protected key ("secret") made with ssh-keygen -a 1, so
	// that unlocking it is cheap.
	locked, err := filepath.Abs(filepath.Join("testdata", "locked_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	lockedPub, err := os.ReadFile(locked + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk")
	writeFile(t, junk)

	tests := []struct {
		name      string
		modify    func(*sftp.Config)
		wantErr   error // nil: any error
		wantInErr string
	}{
		{"unauthorized key", func(c *sftp.Config) { c.IdentityFiles = []string{stranger} }, nil, "unable to authenticate"},
		{"locked key, no passphrase callback", func(c *sftp.Config) { c.IdentityFiles = []string{stranger, locked} }, nil, "locked_ed25519: passphrase-protected"},
		{"no key at all", func(c *sftp.Config) { c.IdentityFiles = []string{filepath.Join(dir, "none")} }, sftp.ErrConfig, "no usable private key"},
		{"unparsable key", func(c *sftp.Config) { c.IdentityFiles = []string{junk} }, nil, junk},
		{"wrong passphrase", func(c *sftp.Config) {
			c.IdentityFiles = []string{locked}
			c.Passphrase = func(string) ([]byte, error) { return []byte("wrong"), nil }
		}, nil, "locked_ed25519"},
		{"no host", func(c *sftp.Config) { c.Host = "" }, sftp.ErrConfig, "no host"},
		{"no path", func(c *sftp.Config) { c.Path = "" }, sftp.ErrConfig, "empty repository path"},
		{"nothing listening", func(c *sftp.Config) { c.Port = sftptest.FreePort(t) }, nil, "connect to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := s.Config(filepath.Join(t.TempDir(), "repo"))
			tt.modify(&cfg)
			be, err := sftp.Create(context.Background(), cfg)
			if err == nil {
				be.Close()
				t.Fatal("Create succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
		})
	}

	t.Run("passphrase callback", func(t *testing.T) {
		// Authorize the locked key and unlock it through the callback.
		ak := filepath.Join(s.Dir, "authorized_keys")
		f, err := os.OpenFile(ak, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Write(lockedPub)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.Config(filepath.Join(t.TempDir(), "repo"))
		cfg.IdentityFiles = []string{locked}
		asked := ""
		cfg.Passphrase = func(file string) ([]byte, error) { asked = file; return []byte("secret"), nil }
		be, err := sftp.Create(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		be.Close()
		if asked != locked {
			t.Errorf("Passphrase called for %q, want %q", asked, locked)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := sftp.Open(ctx, s.Config(t.TempDir()))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Open with a canceled context: %v", err)
		}
	})

	t.Run("command fails", func(t *testing.T) {
		cfg := s.CommandConfig(t, t.TempDir())
		cfg.Command = []string{"false"}
		_, err := sftp.Open(context.Background(), cfg)
		if err == nil || errors.Is(err, backend.ErrNotExist) {
			t.Errorf("Open with a failing command: %v", err)
		}
	})
}
