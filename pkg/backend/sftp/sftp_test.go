package sftp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/backendtest"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/backend/sftp"
	"github.com/gobak/gobak/pkg/backend/sftp/sftptest"
)

// newRepo creates a repository in a new temporary directory through s.
func newRepo(t testing.TB, cfg sftp.Config) *sftp.SFTP {
	t.Helper()
	be, err := sftp.Create(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Create(%s): %v", cfg.Path, err)
	}
	return be
}

func TestConformance(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newRepo(t, s.Config(filepath.Join(t.TempDir(), "repo")))
	})
}

func TestConformanceCommand(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newRepo(t, s.CommandConfig(t, filepath.Join(t.TempDir(), "repo")))
	})
}

func BenchmarkSFTP(b *testing.B) {
	s := sftptest.Start(b)
	backendtest.Bench(b, func(b *testing.B) backend.Backend {
		return newRepo(b, s.Config(filepath.Join(b.TempDir(), "repo")))
	})
}

// TestLayoutMatchesLocal saves files of every type through sftp and reads
// them back with package local from the same directory, and the other
// way round.
func TestLayoutMatchesLocal(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "repo") // missing parent too
	be := newRepo(t, s.Config(dir))
	defer be.Close()

	if be.Path() != dir {
		t.Errorf("Path() = %q, want %q", be.Path(), dir)
	}
	if want := "sftp://" + s.User + "@127.0.0.1:" + s.Port + dir; be.Location() != want {
		t.Errorf("Location() = %q, want %q", be.Location(), want)
	}

	// The directory tree is the one local.Create makes, modes included.
	ref := filepath.Join(t.TempDir(), "ref")
	if _, err := local.Create(ref); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, dir), tree(t, ref); got != want {
		t.Errorf("layout differs from local's:\nsftp:\n%s\nlocal:\n%s", got, want)
	}

	handles := []backend.Handle{
		{Type: backend.ConfigFile},
		{Type: backend.KeyFile, Name: "k1"},
		{Type: backend.PackFile, Name: strings.Repeat("ab", 32)},
		{Type: backend.IndexFile, Name: "i1"},
		{Type: backend.ArchiveFile, Name: "a1"},
		{Type: backend.LockFile, Name: "l1"},
	}
	for _, h := range handles {
		if err := be.Save(ctx, h, []byte("via sftp "+h.String())); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(h.String())))
		if err != nil {
			t.Fatalf("%v not at its local path: %v", h, err)
		}
		if fi.Mode() != 0o400 {
			t.Errorf("%v has mode %v, want -r--------", h, fi.Mode())
		}
	}
	l, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range handles {
		got, err := backend.ReadAll(ctx, l, h)
		if err != nil || string(got) != "via sftp "+h.String() {
			t.Errorf("local read of %v = %q, %v", h, got, err)
		}
	}
	h := backend.Handle{Type: backend.PackFile, Name: "cd01"}
	if err := l.Save(ctx, h, []byte("via local")); err != nil {
		t.Fatal(err)
	}
	got, err := backend.ReadAll(ctx, be, h)
	if err != nil || string(got) != "via local" {
		t.Errorf("sftp read of a locally saved pack = %q, %v", got, err)
	}
	checkNoTemp(t, dir)
}

// tree describes the directories under root with their modes.
func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b.WriteString(rel + " " + fi.Mode().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkNoTemp fails t if a temporary file is left under dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTempFiles(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "repo")
	be := newRepo(t, s.Config(dir))
	defer be.Close()
	h := backend.Handle{Type: backend.PackFile, Name: "ab01"}
	if err := be.Save(ctx, h, []byte("pack")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	var stale []string
	for _, d := range []string{"", "keys", "data/ab", "locks"} {
		p := filepath.Join(dir, d, ".tmp-0123456789abcdef")
		writeFile(t, p)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, p)
	}
	fresh := filepath.Join(dir, "data", "ab", ".tmp-fedcba9876543210")
	writeFile(t, fresh)
	foreign := filepath.Join(dir, "keys", "README")
	writeFile(t, foreign)
	misplaced := filepath.Join(dir, "data", "00", "ff00")
	writeFile(t, misplaced)

	for _, ft := range backend.FileTypes() {
		err := be.List(ctx, ft, func(fi backend.FileInfo) error {
			if ft != backend.PackFile || fi.Name != h.Name {
				t.Errorf("List(%s) reported %q", ft, fi.Name)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("List(%s): %v", ft, err)
		}
	}
	n, err := be.RemoveTemp(time.Hour)
	if err != nil || n != len(stale) {
		t.Fatalf("RemoveTemp(1h) = %d, %v; want %d, nil", n, err, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (%v)", p, err)
		}
	}
	for _, p := range []string{fresh, foreign, misplaced} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if n, err := be.RemoveTemp(-time.Minute); err != nil || n != 1 {
		t.Errorf("RemoveTemp(-1m) = %d, %v; want 1, nil", n, err)
	}
	if _, err := be.Stat(ctx, h); err != nil {
		t.Errorf("RemoveTemp touched a real file: %v", err)
	}
}

func TestCreateOpenErrors(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	ctx := context.Background()
	base := t.TempDir()
	file := filepath.Join(base, "file")
	writeFile(t, file)
	nonEmpty := filepath.Join(base, "nonempty")
	mkdir(t, nonEmpty)
	writeFile(t, filepath.Join(nonEmpty, ".hidden"))
	existing := filepath.Join(base, "existing")
	if be, err := sftp.Create(ctx, s.Config(existing)); err != nil {
		t.Fatal(err)
	} else {
		be.Close()
	}
	empty := filepath.Join(base, "empty")
	mkdir(t, empty)

	tests := []struct {
		name    string
		create  bool
		dir     string
		wantErr error // nil: success; errAny: some error
	}{
		{"create/empty dir", true, empty, nil},
		{"create/non-empty dir", true, nonEmpty, backend.ErrExist},
		{"create/existing repository", true, existing, backend.ErrExist},
		{"create/regular file", true, file, backend.ErrExist},
		{"create/under a file", true, filepath.Join(file, "repo"), errAny},
		{"open/existing", false, existing, nil},
		{"open/missing", false, filepath.Join(base, "missing"), backend.ErrNotExist},
		{"open/regular file", false, file, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := sftp.Open
			if tt.create {
				open = sftp.Create
			}
			be, err := open(ctx, s.Config(tt.dir))
			if err == nil {
				be.Close()
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr == nil:
			case err == nil:
				t.Fatalf("succeeded, want an error")
			case tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			case !strings.Contains(err.Error(), tt.dir):
				t.Errorf("error %q does not name %s", err, tt.dir)
			}
		})
	}
}

// errAny stands for "any error" in tables.
var errAny = errors.New("any error")

func TestRelativePath(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	name := "gobak-sftp-test-" + strings.ReplaceAll(t.Name(), "/", "-") + s.Port
	t.Cleanup(func() { os.RemoveAll(filepath.Join(home, name)) })
	for _, p := range []string{name, "~/" + name} {
		cfg := s.Config(p)
		var be *sftp.SFTP
		if p == name {
			be = newRepo(t, cfg)
		} else {
			be, err = sftp.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
		}
		if want := filepath.Join(home, name); be.Path() != want {
			t.Errorf("Path(%q) = %q, want %q", p, be.Path(), want)
		}
		be.Close()
	}
}

func TestReplace(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	ctx := context.Background()
	be := newRepo(t, s.Config(filepath.Join(t.TempDir(), "repo")))
	defer be.Close()
	h := backend.Handle{Type: backend.ConfigFile}
	for _, content := range []string{"first", "second, longer", ""} {
		if err := be.Replace(ctx, h, []byte(content)); err != nil {
			t.Fatalf("Replace(%q): %v", content, err)
		}
		got, err := backend.ReadAll(ctx, be, h)
		if err != nil || string(got) != content {
			t.Fatalf("after Replace(%q): %q, %v", content, got, err)
		}
	}
	checkNoTemp(t, be.Path())
}

func TestSaveRecreatesPackDir(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	ctx := context.Background()
	be := newRepo(t, s.Config(filepath.Join(t.TempDir(), "repo")))
	defer be.Close()
	if err := os.Remove(filepath.Join(be.Path(), "data", "cd")); err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.PackFile, Name: "cd12"}
	if err := be.Save(ctx, h, []byte("pack")); err != nil {
		t.Fatalf("Save into a removed data/cd: %v", err)
	}
	if err := os.Remove(filepath.Join(be.Path(), "locks")); err != nil {
		t.Fatal(err)
	}
	err := be.Save(ctx, backend.Handle{Type: backend.LockFile, Name: "ef"}, []byte("lock"))
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Save into missing locks/: %v, want ErrNotExist", err)
	}
	if err := os.RemoveAll(filepath.Join(be.Path(), "data")); err != nil {
		t.Fatal(err)
	}
	err = be.Save(ctx, backend.Handle{Type: backend.PackFile, Name: "ef12"}, []byte("pack"))
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Save into missing data/: %v, want ErrNotExist", err)
	}
	checkNoTemp(t, be.Path())
}

func TestClosed(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t)
	be := newRepo(t, s.Config(filepath.Join(t.TempDir(), "repo")))
	if err := be.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := be.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	h := backend.Handle{Type: backend.KeyFile, Name: "ab"}
	if err := be.Save(context.Background(), h, []byte("x")); err == nil {
		t.Error("Save after Close succeeded")
	}
	if _, err := be.Stat(context.Background(), h); err == nil {
		t.Error("Stat after Close succeeded")
	}
}

func writeFile(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(name, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}
