package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "x"})
	missing := dir + "-missing"
	s := archivetest.New()
	runCreate(t, s, baseOptions("taken", dir))
	saved := s.Saved

	tests := []struct {
		name  string
		o     CreateOptions
		want  error
		warns int
	}{
		{"name exists", baseOptions("taken", dir), ErrArchiveExists, 0},
		{"all missing", baseOptions("new", missing, missing+"2"), ErrNoPaths, 2},
		{"nothing", baseOptions("new"), ErrNoPaths, 0},
		{"bad chunker", func() CreateOptions { o := baseOptions("new", dir); o.Chunker.Avg = 3; return o }(), nil, 0},
		{"empty name", baseOptions("", dir), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tryCreate(t, s, tt.o)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if len(r.warns) != tt.warns {
				t.Errorf("warnings %v, want %d", r.warns, tt.warns)
			}
		})
	}
	list, _, err := ListArchives(context.Background(), s)
	if err != nil || len(list) != 1 {
		t.Errorf("archives after failures: %d, %v", len(list), err)
	}
	if s.Saved != saved {
		t.Errorf("failed creates saved %d blobs", s.Saved-saved)
	}

	// One missing path among existing ones is a warning.
	r := runCreate(t, s, baseOptions("partial", missing, dir))
	if len(r.warns) != 1 || len(r.rec.Warnings) != 1 || !strings.Contains(r.rec.Warnings[0], missing) {
		t.Errorf("warnings %v, record %v", r.warns, r.rec.Warnings)
	}
	if _, ok := archived(t, s, r.rec.TreeID())[rel(dir)+"/f"]; !ok {
		t.Errorf("existing path not stored")
	}
}

func TestCreateDryRun(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "aaa", "b/c": "cc"})
	s := archivetest.New()
	o := baseOptions("dry", dir)
	o.DryRun = true
	r := runCreate(t, s, o)
	if s.Blobs() != 0 || !r.id.IsNull() {
		t.Errorf("dry run stored %d blobs", s.Blobs())
	}
	if list, _, _ := ListArchives(context.Background(), s); len(list) != 0 {
		t.Errorf("dry run saved an archive")
	}
	if r.rec.Stats.NFiles != 2 || r.rec.Stats.OriginalSize != 5 || r.rec.Stats.ReadBytes != 0 {
		t.Errorf("dry run stats %+v", r.rec.Stats)
	}
	if r.lines[filepath.Join(dir, "a")] != StatusDryRun {
		t.Errorf("dry run lists a as %q", r.lines[filepath.Join(dir, "a")])
	}
}

func TestCreateCancel(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 200 {
		files[filepath.Join("d", string(rune('a'+i%26)), strings.Repeat("x", i%7+1))] = strings.Repeat("y", i)
	}
	writeTree(t, dir, files)
	s := archivetest.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := baseOptions("c", dir)
	n := 0
	o.List = func(Status, string) {
		if n++; n == 20 {
			cancel()
		}
	}
	_, _, err := Create(ctx, s, s, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if list, _, _ := ListArchives(context.Background(), s); len(list) != 0 {
		t.Errorf("canceled create saved an archive")
	}
}

// failingStore fails SaveBlob after some calls.
type failingStore struct {
	*archivetest.Store
	mu   sync.Mutex
	left int
}

var errDiskFull = errors.New("disk full")

func (f *failingStore) SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error) {
	f.mu.Lock()
	f.left--
	left := f.left
	f.mu.Unlock()
	if left < 0 {
		return id.ID{}, false, errDiskFull
	}
	return f.Store.SaveBlob(ctx, t, data)
}

func TestCreateStoreError(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": string(pseudoRandom(1<<20, 1)), "b/c": "x"})
	fs := &failingStore{Store: archivetest.New(), left: 3}
	_, _, err := Create(context.Background(), fs, fs, baseOptions("f", dir))
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("err = %v, want %v", err, errDiskFull)
	}
	if list, _, _ := ListArchives(context.Background(), fs); len(list) != 0 {
		t.Errorf("failed create saved an archive")
	}
}

func TestCreateUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "aaa", "gone": "will vanish", "locked": "no access", "z": "zzz"})
	s := archivetest.New()
	o := baseOptions("u", dir)
	o.hooks = &createHooks{
		beforeOpen: func(p string) {
			if filepath.Base(p) == "gone" {
				os.Remove(p)
			}
		},
		open: func(p string) (*os.File, error) {
			if filepath.Base(p) == "locked" {
				return nil, &os.PathError{Op: "open", Path: p, Err: syscall.EACCES}
			}
			return openNoFollow(p)
		},
	}
	r := runCreate(t, s, o)
	got := archived(t, s, r.rec.TreeID())
	base := rel(dir)
	for _, p := range []string{"gone", "locked"} {
		if _, ok := got[base+"/"+p]; ok {
			t.Errorf("%s was stored", p)
		}
		if r.lines[filepath.Join(dir, p)] != StatusError {
			t.Errorf("%s listed as %q", p, r.lines[filepath.Join(dir, p)])
		}
	}
	for _, p := range []string{"a", "z"} {
		if _, ok := got[base+"/"+p]; !ok {
			t.Errorf("%s is missing", p)
		}
	}
	if len(r.warns) != 2 || len(r.rec.Warnings) != 2 {
		t.Fatalf("warnings %v, record %v", r.warns, r.rec.Warnings)
	}
	all := strings.Join(r.rec.Warnings, "\n")
	if !strings.Contains(all, "gone") || !strings.Contains(all, "no such file") || !strings.Contains(all, "permission denied") {
		t.Errorf("record warnings = %q", r.rec.Warnings)
	}
}

// blockingReader blocks until closed.
type blockingReader struct{ done chan struct{} }

func (b blockingReader) Read([]byte) (int, error) {
	<-b.done
	return 0, errors.New("closed")
}

func TestCreateStdinCanceled(t *testing.T) {
	// A Read of standard input that never returns does not keep a
	// canceled Create from returning.
	in := blockingReader{done: make(chan struct{})}
	defer close(in.done)
	s := archivetest.New()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	o := baseOptions("stdin")
	o.Stdin = in
	errc := make(chan error, 1)
	go func() {
		_, _, err := Create(ctx, s, s, o)
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Create did not return after its context ended")
	}
}
