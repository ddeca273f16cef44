package repo

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
)

// errCrash stands for the process dying: from then on nothing is written.
var errCrash = errors.New("simulated crash")

// crashAfter is a backend that carries out the first n writes (Save and
// Remove) and fails every later one, as if the process had been killed
// right after the n-th write.
type crashAfter struct {
	backend.Backend
	mu     sync.Mutex
	n      int
	writes int
}

func (c *crashAfter) allow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes >= c.n {
		return false
	}
	c.writes++
	return true
}

func (c *crashAfter) Save(ctx context.Context, h backend.Handle, data []byte) error {
	if h.Type == backend.LockFile || c.allow() {
		return c.Backend.Save(ctx, h, data)
	}
	return errCrash
}

func (c *crashAfter) Remove(ctx context.Context, h backend.Handle) error {
	if h.Type == backend.LockFile || c.allow() {
		return c.Backend.Remove(ctx, h)
	}
	return errCrash
}

// TestCompactCrashPoints stops a compaction after each of its writes in
// turn (every pack, index file and deletion) and checks that the
// repository then still holds every used blob, in a fresh open with an
// empty cache, and that a second compaction ends where an uninterrupted
// one does.
func TestCompactCrashPoints(t *testing.T) {
	t.Parallel()
	// Without encryption sealing is deterministic, so a rerun writes
	// packs byte for byte equal to those of the interrupted run.
	for _, enc := range []string{"repokey", "none"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			testCompactCrashPoints(t, enc)
		})
	}
}

func testCompactCrashPoints(t *testing.T, enc string) {
	ctx := context.Background()
	keep := func(i int) bool { return i >= 30 && (i%3 != 0 || i > 60) }
	// The uninterrupted run, on an identical repository: its figures and
	// its number of writes.
	ref := newCompactFixtureEnc(t, 80, 40<<10, enc)
	ref.r.Close()
	be, err := local.Open(ref.dir)
	if err != nil {
		t.Fatal(err)
	}
	counter := &crashAfter{Backend: be, n: 1 << 30}
	o := ref.o
	o.CacheDir = t.TempDir()
	rr, err := Open(ctx, counter, o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := rr.Compact(ctx, CompactOptions{Used: ref.usedFunc(keep)})
	if err != nil {
		t.Fatal(err)
	}
	rr.Close()
	total := counter.writes
	wantBytes := packDirBytes(t, ref.dir)
	if want.PacksRepacked == 0 || want.PacksDeleted == 0 || total < 5 {
		t.Fatalf("the reference compaction is too small to test: %d writes, %+v", total, want)
	}

	for n := 0; n < total; n++ {
		f := newCompactFixtureEnc(t, 80, 40<<10, enc)
		f.r.Close()
		be, err := local.Open(f.dir)
		if err != nil {
			t.Fatal(err)
		}
		o := f.o
		o.CacheDir = t.TempDir()
		r, err := Open(ctx, &crashAfter{Backend: be, n: n}, o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Compact(ctx, CompactOptions{Used: f.usedFunc(keep)}); !errors.Is(err, errCrash) {
			t.Fatalf("crash after %d writes: compact returned %v", n, err)
		}
		r.Close()
		f.check(t, reopen(t, f.dir, o), keep, false)

		o.CacheDir = t.TempDir()
		r2 := reopen(t, f.dir, o)
		if _, err := r2.Compact(ctx, CompactOptions{Used: f.usedFunc(keep)}); err != nil {
			t.Fatalf("crash after %d writes: second compact: %v", n, err)
		}
		f.check(t, r2, keep, true)
		if got := packDirBytes(t, f.dir); got != wantBytes {
			t.Errorf("crash after %d writes: %d pack bytes after the second compact, want %d", n, got, wantBytes)
		}
	}
	t.Logf("%d crash points", total)
}
