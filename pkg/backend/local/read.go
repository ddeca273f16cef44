package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gobak/gobak/pkg/backend"
)

// limitedFile reads at most a given number of bytes of an open file.
type limitedFile struct {
	io.Reader
	f *os.File
}

func (l limitedFile) Close() error { return l.f.Close() }

// Load opens h and returns a reader of length bytes from offset, following
// the backend.Backend contract.
func (l *Local) Load(ctx context.Context, h backend.Handle, offset, length int64) (io.ReadCloser, error) {
	name, err := l.prepare(ctx, "load", h)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("load %s: negative offset %d", name, offset)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, mapErr("load", name, err)
	}
	if offset > 0 {
		// Seeking beyond the end is allowed; reads then return io.EOF.
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
	}
	if length > 0 {
		return limitedFile{io.LimitReader(f, length), f}, nil
	}
	return f, nil
}

// Stat returns the size of h. It fails if h is not a regular file.
func (l *Local) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	name, err := l.prepare(ctx, "stat", h)
	if err != nil {
		return backend.FileInfo{}, err
	}
	fi, err := os.Stat(name)
	if err != nil {
		return backend.FileInfo{}, mapErr("stat", name, err)
	}
	if !fi.Mode().IsRegular() {
		return backend.FileInfo{}, fmt.Errorf("stat %s: not a regular file (%s)", name, fi.Mode().Type())
	}
	return backend.FileInfo{Name: h.Name, Size: fi.Size()}, nil
}

// Remove deletes h and fsyncs its directory.
func (l *Local) Remove(ctx context.Context, h backend.Handle) error {
	name, err := l.prepare(ctx, "remove", h)
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil {
		return mapErr("remove", name, err)
	}
	if err := syncDir(filepath.Dir(name)); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}
