package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// Lock timing (DESIGN.md §3).
const (
	// LockRefreshInterval is how often a held lock is rewritten.
	LockRefreshInterval = 5 * time.Minute
	// LockStaleAfter is the age after which a lock that was not refreshed
	// is considered abandoned.
	LockStaleAfter = 30 * time.Minute
)

// LockInfo describes one lock file.
type LockInfo struct {
	Name      string
	Hostname  string
	Username  string
	PID       int
	Exclusive bool
	Time      time.Time
	Stale     bool  // abandoned: its process is gone (same host) or it is too old
	Err       error // the lock file could not be read or parsed
}

// String describes the lock for messages.
func (l LockInfo) String() string {
	kind := "shared"
	if l.Exclusive {
		kind = "exclusive"
	}
	if l.Err != nil {
		return fmt.Sprintf("unreadable lock %s (%v)", l.Name, l.Err)
	}
	return fmt.Sprintf("%s lock held by pid %d on %s since %s", kind, l.PID, l.Hostname, l.Time.Local().Format(time.RFC3339))
}

// LockOptions describe the lock owner.
type LockOptions struct {
	Hostname, Username string
	// Wait is how long to retry while a conflicting lock is held.
	Wait time.Duration
	// Logger receives warnings about stale locks that were removed.
	Logger *slog.Logger
}

// Lock is a held repository lock. It refreshes itself in the background
// until Unlock.
type Lock struct {
	be        backend.Backend
	mu        sync.Mutex // guards info, handle, refreshEr, lastOK
	info      format.Lock
	handle    backend.Handle
	refreshEr error
	lastOK    time.Time // when the lock file was last written successfully

	refreshMu sync.Mutex // one refresh at a time
	stop      chan struct{}
	done      chan struct{}
	stopOnce  sync.Once
	lost      chan struct{}
	lostOnce  sync.Once
}

// Locks lists the repository's lock files.
func Locks(ctx context.Context, be backend.Backend, hostname string) ([]LockInfo, error) {
	hostname = hostnameOr(hostname)
	var names []string
	err := be.List(ctx, backend.LockFile, func(fi backend.FileInfo) error {
		names = append(names, fi.Name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: list locks: %w", be.Location(), err)
	}
	out := make([]LockInfo, 0, len(names))
	for _, n := range names {
		li := LockInfo{Name: n}
		h := backend.Handle{Type: backend.LockFile, Name: n}
		var data []byte
		fi, err := be.Stat(ctx, h)
		if err == nil && fi.Size > format.MaxLockSize {
			err = fmt.Errorf("lock file of %d bytes is too large", fi.Size)
		} else if err == nil {
			data, err = backend.ReadAll(ctx, be, h)
		}
		if errors.Is(err, backend.ErrNotExist) {
			continue // removed meanwhile
		}
		if err == nil {
			var l *format.Lock
			if l, err = format.DecodeLock(data); err == nil {
				li.Hostname, li.Username, li.PID, li.Exclusive, li.Time = l.Hostname, l.Username, l.PID, l.Exclusive, l.Time
				li.Stale = isStale(l, hostname)
			}
		}
		li.Err = err
		out = append(out, li)
	}
	return out, nil
}

func isStale(l *format.Lock, hostname string) bool {
	if time.Since(l.Time) > LockStaleAfter {
		return true
	}
	if l.Hostname == hostname && l.PID > 0 && l.PID != os.Getpid() {
		return errors.Is(syscall.Kill(l.PID, 0), syscall.ESRCH)
	}
	return false
}

func hostnameOr(h string) string { return hostname(h) }

// BreakLocks removes every lock file, held or not. Use it only when no
// other gobak process uses the repository.
func BreakLocks(ctx context.Context, be backend.Backend) (int, error) {
	locks, err := Locks(ctx, be, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range locks {
		err := be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: l.Name})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return n, fmt.Errorf("remove lock %s: %w", l.Name, err)
		}
		n++
	}
	return n, nil
}

// AcquireLock takes a shared or exclusive lock on the repository on be.
// Stale locks are removed (with a warning to o.Logger). A conflicting live
// lock is waited for up to o.Wait, then the error wraps ErrLocked and names
// the holder.
func AcquireLock(ctx context.Context, be backend.Backend, exclusive bool, o LockOptions) (*Lock, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	host := hostnameOr(o.Hostname)
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	l := &Lock{be: be, info: format.Lock{Hostname: host, Username: o.Username, PID: os.Getpid(), Exclusive: exclusive, Nonce: hex.EncodeToString(nonce)}, lost: make(chan struct{})}
	deadline := time.Now().Add(o.Wait)
	for attempt := 0; ; attempt++ {
		conflict, err := l.conflicts(ctx, host, o.Logger)
		if err != nil {
			return nil, err
		}
		if conflict == nil {
			if err := l.write(ctx); err != nil {
				return nil, err
			}
			// Someone may have locked at the same moment: look again.
			conflict, err = l.conflicts(ctx, host, o.Logger)
			if err != nil {
				_ = l.remove(context.WithoutCancel(ctx))
				return nil, err
			}
			if conflict == nil {
				break
			}
			_ = l.remove(context.WithoutCancel(ctx))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %w: %s; wait for it to finish, or if no gobak process uses the repository, run 'gobak break-lock'", be.Location(), ErrLocked, conflict)
		}
		sleep := time.Duration(50+randInt(200)) * time.Millisecond * time.Duration(min(attempt+1, 10))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(sleep, time.Until(deadline)+time.Millisecond)):
		}
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.refreshLoop()
	return l, nil
}

func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0
	}
	return v.Int64()
}

// conflicts returns a live lock that conflicts with l, removing stale ones.
func (l *Lock) conflicts(ctx context.Context, host string, log *slog.Logger) (*LockInfo, error) {
	locks, err := Locks(ctx, l.be, host)
	if err != nil {
		return nil, err
	}
	for _, o := range locks {
		if o.Name == l.handle.Name {
			continue
		}
		if o.Stale {
			log.Warn("removing stale lock", "lock", o.String())
			if err := l.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: o.Name}); err != nil && !errors.Is(err, backend.ErrNotExist) {
				return nil, fmt.Errorf("remove stale lock %s: %w", o.Name, err)
			}
			continue
		}
		if l.info.Exclusive || o.Exclusive || o.Err != nil {
			c := o
			return &c, nil
		}
	}
	return nil, nil
}

func (l *Lock) write(ctx context.Context) error {
	l.mu.Lock()
	l.info.Time = time.Now().UTC()
	data, err := format.EncodeLock(&l.info)
	l.mu.Unlock()
	if err != nil {
		return err
	}
	h := backend.Handle{Type: backend.LockFile, Name: id.Hash(data).String()}
	if err := l.be.Save(ctx, h, data); err != nil {
		return fmt.Errorf("%s: write lock: %w", l.be.Location(), err)
	}
	l.mu.Lock()
	l.handle = h
	l.lastOK = time.Now()
	l.mu.Unlock()
	return nil
}

func (l *Lock) remove(ctx context.Context) error {
	l.mu.Lock()
	h := l.handle
	l.mu.Unlock()
	if h.Name == "" {
		return nil
	}
	err := l.be.Remove(ctx, h)
	if errors.Is(err, backend.ErrNotExist) {
		return nil
	}
	return err
}

// refreshLoop rewrites the lock file every LockRefreshInterval: a new file
// is written first, then the old one removed.
func (l *Lock) refreshLoop() {
	defer close(l.done)
	t := time.NewTicker(LockRefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), LockRefreshInterval)
			err := l.Refresh(ctx)
			cancel()
			l.mu.Lock()
			l.refreshEr = err
			expired := time.Since(l.lastOK) > LockStaleAfter-LockRefreshInterval
			l.mu.Unlock()
			// Others may treat a lock not refreshed for LockStaleAfter as
			// abandoned: past that point this holder must stop.
			if errors.Is(err, ErrLocked) || (err != nil && expired) {
				l.lostOnce.Do(func() { close(l.lost) })
				return
			}
		}
	}
}

// Lost is closed when the lock can no longer be relied on: another process
// removed it as stale, or it could not be refreshed for so long that
// others may consider it stale. A holder that sees it must stop writing.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Refresh rewrites the lock file with the current time. If the lock file
// was removed by another process, it returns an error wrapping ErrLocked:
// the lock is lost.
func (l *Lock) Refresh(ctx context.Context) error {
	l.refreshMu.Lock()
	defer l.refreshMu.Unlock()
	l.mu.Lock()
	old := l.handle
	l.mu.Unlock()
	if _, err := l.be.Stat(ctx, old); errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("%s: %w: lock %s was removed by another process", l.be.Location(), ErrLocked, old.Name)
	}
	if err := l.write(ctx); err != nil {
		return err
	}
	if err := l.be.Remove(ctx, old); err != nil {
		if errors.Is(err, backend.ErrNotExist) {
			_ = l.remove(ctx)
			return fmt.Errorf("%s: %w: lock %s was removed by another process", l.be.Location(), ErrLocked, old.Name)
		}
		return err
	}
	return nil
}

// Err returns the last refresh error, if any.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refreshEr
}

// Unlock stops refreshing and removes the lock file. It is idempotent.
func (l *Lock) Unlock(ctx context.Context) error {
	if l.stop != nil {
		l.stopOnce.Do(func() { close(l.stop) })
		<-l.done
	}
	l.refreshMu.Lock()
	defer l.refreshMu.Unlock()
	err := l.remove(ctx)
	l.mu.Lock()
	l.handle = backend.Handle{}
	l.mu.Unlock()
	return err
}
