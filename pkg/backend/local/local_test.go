package local_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/backendtest"
	"github.com/gobak/gobak/pkg/backend/local"
)

func newRepo(t testing.TB) *local.Local {
	t.Helper()
	l, err := local.Create(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return l
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newRepo(t) })
}

func BenchmarkLocal(b *testing.B) {
	backendtest.Bench(b, func(b *testing.B) backend.Backend { return newRepo(b) })
}

func TestCreateLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "repo") // missing parents too
	l, err := local.Create(dir)
	if err != nil {
		t.Fatalf("Create(%s): %v", dir, err)
	}
	if l.Path() != dir || l.Location() != dir {
		t.Errorf("Path() = %q, Location() = %q, want %q", l.Path(), l.Location(), dir)
	}
	want := []string{"keys", "data", "index", "archives", "locks"}
	for i := range 256 {
		want = append(want, fmt.Sprintf("data/%02x", i))
	}
	for _, d := range want {
		fi, err := os.Stat(filepath.Join(dir, d))
		if err != nil || !fi.IsDir() {
			t.Errorf("%s: %v, want a directory", d, err)
		} else if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 5 {
		t.Errorf("repository root has %d entries (%v), want 5", len(entries), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "config")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create wrote a config file (stat: %v)", err)
	}
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr error // nil: success
	}{
		{"missing", func(*testing.T, string) {}, nil},
		{"empty dir", func(t *testing.T, dir string) { mkdir(t, dir) }, nil},
		{"non-empty dir", func(t *testing.T, dir string) {
			mkdir(t, dir)
			writeFile(t, filepath.Join(dir, "something"))
		}, backend.ErrExist},
		{"hidden file only", func(t *testing.T, dir string) {
			mkdir(t, dir)
			writeFile(t, filepath.Join(dir, ".hidden"))
		}, backend.ErrExist},
		{"existing repository", func(t *testing.T, dir string) {
			if _, err := local.Create(dir); err != nil {
				t.Fatal(err)
			}
		}, backend.ErrExist},
		{"regular file", func(t *testing.T, dir string) { writeFile(t, dir) }, backend.ErrExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			tt.prepare(t, dir)
			_, err := local.Create(dir)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Create: %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name %s", err, dir)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	writeFile(t, file)

	l, err := local.Open(base)
	if err != nil || l.Path() != base {
		t.Errorf("Open(existing dir) = %v, %v", l, err)
	}
	missing := filepath.Join(base, "missing")
	_, err = local.Open(missing)
	if !errors.Is(err, backend.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(missing) = %v, want ErrNotExist naming %s", err, missing)
	}
	if _, err := local.Open(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Open(regular file) = %v, want an error naming it", err)
	}

	// Open of a relative path yields an absolute one.
	t.Chdir(base)
	l, err = local.Open(".")
	if err != nil || l.Path() != base {
		t.Errorf("Open(.) = %v, %v; want path %s", l, err, base)
	}
}

func TestFileMode(t *testing.T) {
	l := newRepo(t)
	ctx := context.Background()
	for _, h := range []backend.Handle{
		{Type: backend.ConfigFile},
		{Type: backend.PackFile, Name: strings.Repeat("ab", 32)},
		{Type: backend.KeyFile, Name: "cd"},
	} {
		if err := l.Save(ctx, h, []byte("data")); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(l.Path(), filepath.FromSlash(h.String())))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != 0o400 {
			t.Errorf("%v has mode %v, want -r--------", h, fi.Mode())
		}
	}
	checkNoTemp(t, l)
}

func TestTempFiles(t *testing.T) {
	l := newRepo(t)
	ctx := context.Background()
	h := backend.Handle{Type: backend.PackFile, Name: "ab01"}
	if err := l.Save(ctx, h, []byte("pack")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	var stale []string
	for _, d := range []string{"", "keys", "data/ab", "locks"} {
		p := filepath.Join(l.Path(), d, ".tmp-0123456789abcdef")
		writeFile(t, p)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, p)
	}
	fresh := filepath.Join(l.Path(), "data", "ab", ".tmp-fedcba9876543210")
	writeFile(t, fresh)
	// A foreign file that merely looks odd is neither listed nor removed.
	foreign := filepath.Join(l.Path(), "keys", "README")
	writeFile(t, foreign)

	for _, ft := range backend.FileTypes() {
		err := l.List(ctx, ft, func(fi backend.FileInfo) error {
			if ft != backend.PackFile || fi.Name != h.Name {
				t.Errorf("List(%s) reported %q", ft, fi.Name)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("List(%s): %v", ft, err)
		}
	}

	n, err := l.RemoveTemp(time.Hour)
	if err != nil || n != len(stale) {
		t.Fatalf("RemoveTemp(1h) = %d, %v; want %d, nil", n, err, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (%v)", p, err)
		}
	}
	for _, p := range []string{fresh, foreign} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if n, err := l.RemoveTemp(0); err != nil || n != 1 {
		t.Errorf("RemoveTemp(0) = %d, %v; want 1, nil", n, err)
	}
	if _, err := l.Stat(ctx, h); err != nil {
		t.Errorf("RemoveTemp touched a real file: %v", err)
	}
}

func TestMisplacedPack(t *testing.T) {
	l := newRepo(t)
	ctx := context.Background()
	// A pack in the wrong data/xx directory cannot be loaded, so it is not
	// listed; neither is anything in a non-hex or odd-length subdirectory.
	writeFile(t, filepath.Join(l.Path(), "data", "00", "ff00"))
	mkdir(t, filepath.Join(l.Path(), "data", "abc"))
	writeFile(t, filepath.Join(l.Path(), "data", "abc", "abcd"))
	writeFile(t, filepath.Join(l.Path(), "data", "ab00")) // not in a subdirectory
	err := l.List(ctx, backend.PackFile, func(fi backend.FileInfo) error {
		t.Errorf("List reported %q", fi.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSaveRecreatesPackDir(t *testing.T) {
	l := newRepo(t)
	ctx := context.Background()
	sub := filepath.Join(l.Path(), "data", "cd")
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.PackFile, Name: "cd12"}
	if err := l.Save(ctx, h, []byte("pack")); err != nil {
		t.Fatalf("Save into a removed data/cd: %v", err)
	}
	got, err := backend.ReadAll(ctx, l, h)
	if err != nil || string(got) != "pack" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}

	// Other type directories, and data/ itself, are not recreated: their
	// absence means something is badly wrong (an unmounted disk, say).
	if err := os.Remove(filepath.Join(l.Path(), "locks")); err != nil {
		t.Fatal(err)
	}
	err = l.Save(ctx, backend.Handle{Type: backend.LockFile, Name: "ef"}, []byte("lock"))
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Save into missing locks/: %v, want ErrNotExist", err)
	}
	if err := os.RemoveAll(filepath.Join(l.Path(), "data")); err != nil {
		t.Fatal(err)
	}
	err = l.Save(ctx, backend.Handle{Type: backend.PackFile, Name: "ef12"}, []byte("pack"))
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Save into missing data/: %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(l.Path(), "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Save recreated data/ (%v)", err)
	}
}

func TestErrorsNamePath(t *testing.T) {
	l := newRepo(t)
	ctx := context.Background()
	h := backend.Handle{Type: backend.IndexFile, Name: "0123"}
	want := filepath.Join(l.Path(), "index", "0123")
	_, err := l.Stat(ctx, h)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Stat error %v does not name %s", err, want)
	}
	if err := l.Save(ctx, h, nil); err != nil {
		t.Fatal(err)
	}
	err = l.Save(ctx, h, nil)
	if !errors.Is(err, backend.ErrExist) || !strings.Contains(err.Error(), want) {
		t.Errorf("Save error %v: want ErrExist naming %s", err, want)
	}
	checkNoTemp(t, l)
}

func TestStatNotRegular(t *testing.T) {
	l := newRepo(t)
	mkdir(t, filepath.Join(l.Path(), "keys", "ab"))
	_, err := l.Stat(context.Background(), backend.Handle{Type: backend.KeyFile, Name: "ab"})
	if err == nil {
		t.Fatal("Stat of a directory succeeded")
	}
}

// checkNoTemp fails t if any temporary file is left in the repository.
func checkNoTemp(t *testing.T, l *local.Local) {
	t.Helper()
	err := filepath.WalkDir(l.Path(), func(p string, d os.DirEntry, err error) error {
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

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(name, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
}
