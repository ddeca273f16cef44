package repo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/mem"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

func plantLock(t *testing.T, be backend.Backend, l format.Lock) {
	t.Helper()
	data, err := format.EncodeLock(&l)
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Save(context.Background(), backend.Handle{Type: backend.LockFile, Name: "aa" + l.Nonce}, data); err != nil {
		t.Fatal(err)
	}
}

func TestLocks(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	o := LockOptions{Hostname: "here"}
	s1, err := AcquireLock(ctx, be, false, o)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := AcquireLock(ctx, be, false, o)
	if err != nil {
		t.Fatalf("two shared locks: %v", err)
	}
	if _, err := AcquireLock(ctx, be, true, o); !errors.Is(err, ErrLocked) {
		t.Fatalf("exclusive over shared: %v", err)
	}
	s1.Unlock(ctx)
	s2.Unlock(ctx)
	if n := countFiles(t, be, backend.LockFile); n != 0 {
		t.Fatalf("%d lock files after unlock", n)
	}
	x, err := AcquireLock(ctx, be, true, o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = AcquireLock(ctx, be, false, LockOptions{Hostname: "here", Wait: 300 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("shared over exclusive: %v after %v", err, time.Since(start))
	}
	// Waiting succeeds once the holder goes away.
	go func() { time.Sleep(200 * time.Millisecond); x.Unlock(ctx) }()
	s3, err := AcquireLock(ctx, be, false, LockOptions{Hostname: "here", Wait: 5 * time.Second})
	if err != nil {
		t.Fatalf("wait for exclusive holder: %v", err)
	}
	if err := s3.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(t, be, backend.LockFile); n != 1 {
		t.Fatalf("%d lock files after refresh, want 1", n)
	}
	s3.Unlock(ctx)
}

func TestStaleLocks(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	// A lock of a dead process on this host, and an old lock of another host.
	plantLock(t, be, format.Lock{Hostname: "here", PID: 1 << 30, Exclusive: true, Time: time.Now(), Nonce: "01"})
	plantLock(t, be, format.Lock{Hostname: "there", PID: 1, Exclusive: true, Time: time.Now().Add(-2 * LockStaleAfter), Nonce: "02"})
	l, err := AcquireLock(ctx, be, true, LockOptions{Hostname: "here"})
	if err != nil {
		t.Fatalf("stale locks not removed: %v", err)
	}
	l.Unlock(ctx)
	// A fresh lock of another host is live.
	plantLock(t, be, format.Lock{Hostname: "there", PID: 1, Exclusive: false, Time: time.Now(), Nonce: "03"})
	if _, err := AcquireLock(ctx, be, true, LockOptions{Hostname: "here"}); !errors.Is(err, ErrLocked) {
		t.Fatalf("live foreign lock ignored: %v", err)
	}
	locks, err := Locks(ctx, be, "here")
	if err != nil || len(locks) != 1 || locks[0].Stale {
		t.Fatalf("locks %+v %v", locks, err)
	}
	n, err := BreakLocks(ctx, be)
	if err != nil || n != 1 {
		t.Fatalf("break: %d %v", n, err)
	}
	if _, err := AcquireLock(ctx, be, true, LockOptions{Hostname: "here"}); err != nil {
		t.Fatalf("after break-lock: %v", err)
	}
}

// TestLostLockStopsWrites: after the lock is lost, the repository refuses
// to flush or write an archive record.
func TestLostLockStopsWrites(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newLocalRepo(t, nil)
	l, err := AcquireLock(ctx, r.Backend(), false, LockOptions{Hostname: "here"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(ctx)
	r.UseLock(l)
	if _, err := r.SaveArchive(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	l.lostOnce.Do(func() { close(l.lost) }) // as the refresh loop does
	if _, err := r.SaveArchive(ctx, []byte("after")); !errors.Is(err, ErrLocked) {
		t.Fatalf("archive written without a lock: %v", err)
	}
	if err := r.Flush(ctx); !errors.Is(err, ErrLocked) {
		t.Fatalf("flush without a lock: %v", err)
	}
}
