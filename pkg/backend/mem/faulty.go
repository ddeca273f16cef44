package mem

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/gobak/gobak/pkg/backend"
)

// Faulty wraps a backend.Backend and injects errors through optional hooks.
//
// Before each call, Faulty counts it per method and calls the matching hook
// (if set) with the handle (or file type) and n, the number of calls of that
// method so far including this one (1 for the first). If the hook returns a
// non-nil error, the call returns that error without reaching Backend;
// otherwise it is passed through. Location and Close are always passed
// through.
//
// Set the hooks before the first call and do not change them afterwards.
// Faulty is safe for concurrent use if Backend and the hooks are; hooks may
// be called concurrently. Use it by pointer; it must not be copied after
// first use.
type Faulty struct {
	// Backend is the wrapped backend; it must be set.
	Backend backend.Backend

	// FailSave, if set, is called before each Save; a non-nil result
	// fails the Save, which then writes nothing (as with a full disk or a
	// connection dropped before the upload completed).
	FailSave func(h backend.Handle, n int) error
	// FailLoad, if set, is called before each Load.
	FailLoad func(h backend.Handle, n int) error
	// FailStat, if set, is called before each Stat.
	FailStat func(h backend.Handle, n int) error
	// FailList, if set, is called before each List with its file type.
	FailList func(t backend.FileType, n int) error
	// FailRemove, if set, is called before each Remove; a non-nil result
	// leaves the file in place.
	FailRemove func(h backend.Handle, n int) error

	saves, loads, stats, lists, removes atomic.Int64
}

var _ backend.Backend = (*Faulty)(nil)

// FailAfter returns a hook that lets the first k calls through and makes
// every later call fail with err; for example FailAfter(3, syscall.ENOSPC)
// as FailSave simulates a disk that fills up after three files.
func FailAfter(k int, err error) func(backend.Handle, int) error {
	return func(_ backend.Handle, n int) error {
		if n > k {
			return err
		}
		return nil
	}
}

func hook[T any](fn func(T, int) error, v T, ctr *atomic.Int64) error {
	n := int(ctr.Add(1))
	if fn == nil {
		return nil
	}
	return fn(v, n)
}

// Location returns the wrapped backend's location.
func (f *Faulty) Location() string { return f.Backend.Location() }

// Save calls FailSave, then the wrapped Save.
func (f *Faulty) Save(ctx context.Context, h backend.Handle, data []byte) error {
	if err := hook(f.FailSave, h, &f.saves); err != nil {
		return err
	}
	return f.Backend.Save(ctx, h, data)
}

// Load calls FailLoad, then the wrapped Load.
func (f *Faulty) Load(ctx context.Context, h backend.Handle, offset, length int64) (io.ReadCloser, error) {
	if err := hook(f.FailLoad, h, &f.loads); err != nil {
		return nil, err
	}
	return f.Backend.Load(ctx, h, offset, length)
}

// Stat calls FailStat, then the wrapped Stat.
func (f *Faulty) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := hook(f.FailStat, h, &f.stats); err != nil {
		return backend.FileInfo{}, err
	}
	return f.Backend.Stat(ctx, h)
}

// List calls FailList, then the wrapped List.
func (f *Faulty) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := hook(f.FailList, t, &f.lists); err != nil {
		return err
	}
	return f.Backend.List(ctx, t, fn)
}

// Remove calls FailRemove, then the wrapped Remove.
func (f *Faulty) Remove(ctx context.Context, h backend.Handle) error {
	if err := hook(f.FailRemove, h, &f.removes); err != nil {
		return err
	}
	return f.Backend.Remove(ctx, h)
}

// Close closes the wrapped backend.
func (f *Faulty) Close() error { return f.Backend.Close() }
