package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gobak/gobak/pkg/backend"
)

// readDirBatch is how many directory entries List reads at a time, so that
// memory stays bounded for directories with very many files.
const readDirBatch = 1024

// List calls fn for every file of type t, following the backend.Backend
// contract. Only regular files whose names are valid handles are reported
// (for packs, only in the data/xx directory matching their first two
// characters, where Load would find them). A missing directory is an empty
// listing.
func (l *Local) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := t.Valid(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	dir := filepath.Join(l.dir, string(t))
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	switch t {
	case backend.ConfigFile:
		fi, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		return fn(backend.FileInfo{Name: "", Size: fi.Size()})
	case backend.PackFile:
		return walkDir(dir, func(e fs.DirEntry) error {
			sub := e.Name()
			if !e.IsDir() || len(sub) != 2 {
				return nil
			}
			return listDir(ctx, t, filepath.Join(dir, sub), sub, fn)
		})
	}
	return listDir(ctx, t, dir, "", fn)
}

// listDir reports the files of type t in dir whose names start with prefix.
func listDir(ctx context.Context, t backend.FileType, dir, prefix string, fn func(backend.FileInfo) error) error {
	return walkDir(dir, func(e fs.DirEntry) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) {
			return nil
		}
		if (backend.Handle{Type: t, Name: name}).Valid() != nil {
			return nil // temporary files and foreign names
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since the directory was read
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		return fn(backend.FileInfo{Name: name, Size: fi.Size()})
	})
}

// walkDir calls fn for each entry of dir, reading it in batches. A missing
// dir has no entries. fn's error is returned unwrapped.
func walkDir(dir string, fn func(fs.DirEntry) error) error {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(readDirBatch)
		for _, e := range entries {
			if ferr := fn(e); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
	}
}
