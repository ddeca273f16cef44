package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/gobak/gobak/pkg/backend"
)

// Mem is an in-memory backend.Backend. It copies data on Save and Load, so
// callers may reuse their buffers. It is safe for concurrent use. The zero
// value is not usable; call New.
type Mem struct {
	mu    sync.RWMutex
	files map[backend.Handle][]byte
}

var _ backend.Backend = (*Mem)(nil)

// New returns an empty in-memory backend.
func New() *Mem {
	return &Mem{files: make(map[backend.Handle][]byte)}
}

// Location returns "memory".
func (m *Mem) Location() string { return "memory" }

// check validates h and ctx, the common preamble of every method.
func check(ctx context.Context, op string, h backend.Handle) error {
	if err := h.Valid(); err != nil {
		return fmt.Errorf("mem: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: %s %s: %w", op, h, err)
	}
	return nil
}

// Save stores a copy of data under h. It returns an error wrapping
// backend.ErrExist if h is already stored.
func (m *Mem) Save(ctx context.Context, h backend.Handle, data []byte) error {
	if err := check(ctx, "save", h); err != nil {
		return err
	}
	buf := cloneData(data)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[h]; ok {
		return fmt.Errorf("mem: save %s: %w", h, backend.ErrExist)
	}
	m.files[h] = buf
	return nil
}

// Load returns a reader of a copy of the requested range of h, following
// the backend.Backend contract.
func (m *Mem) Load(ctx context.Context, h backend.Handle, offset, length int64) (io.ReadCloser, error) {
	if err := check(ctx, "load", h); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("mem: load %s: negative offset %d", h, offset)
	}
	m.mu.RLock()
	data, ok := m.files[h]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("mem: load %s: %w", h, backend.ErrNotExist)
	}
	// Stored slices are never modified, so they may be read unlocked.
	size := int64(len(data))
	start := min(offset, size)
	end := size
	if length > 0 && length < size-start {
		end = start + length
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(data[start:end]))), nil
}

// Stat returns the size of h, or an error wrapping backend.ErrNotExist.
func (m *Mem) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := check(ctx, "stat", h); err != nil {
		return backend.FileInfo{}, err
	}
	m.mu.RLock()
	data, ok := m.files[h]
	m.mu.RUnlock()
	if !ok {
		return backend.FileInfo{}, fmt.Errorf("mem: stat %s: %w", h, backend.ErrNotExist)
	}
	return backend.FileInfo{Name: h.Name, Size: int64(len(data))}, nil
}

// List calls fn for every file of type t. It works on a snapshot taken at
// the start, so fn may call other methods of m.
func (m *Mem) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := t.Valid(); err != nil {
		return fmt.Errorf("mem: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: list %s: %w", t, err)
	}
	var infos []backend.FileInfo
	m.mu.RLock()
	for h, data := range m.files {
		if h.Type == t {
			infos = append(infos, backend.FileInfo{Name: h.Name, Size: int64(len(data))})
		}
	}
	m.mu.RUnlock()
	for _, fi := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem: list %s: %w", t, err)
		}
		if err := fn(fi); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes h, or returns an error wrapping backend.ErrNotExist.
func (m *Mem) Remove(ctx context.Context, h backend.Handle) error {
	if err := check(ctx, "remove", h); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[h]; !ok {
		return fmt.Errorf("mem: remove %s: %w", h, backend.ErrNotExist)
	}
	delete(m.files, h)
	return nil
}

// Close does nothing and returns nil; the stored files stay available.
func (m *Mem) Close() error { return nil }

// Replace sets the content of h to a copy of data, whether or not h
// exists (the local backend's Replace contract).
func (m *Mem) Replace(ctx context.Context, h backend.Handle, data []byte) error {
	if err := check(ctx, "replace", h); err != nil {
		return err
	}
	buf := cloneData(data)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[h] = buf
	return nil
}

// cloneData copies data, as a non-nil slice.
func cloneData(data []byte) []byte {
	if buf := bytes.Clone(data); buf != nil {
		return buf
	}
	return []byte{}
}
