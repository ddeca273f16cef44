package sftp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/gobak/gobak/pkg/backend"
)

// List calls fn for every file of type t, following the backend.Backend
// contract. Only regular files whose names are valid handles are reported
// (for packs, only in the data/xx directory matching their first two
// characters, where Load would find them), exactly as in package local. A
// missing directory is an empty listing. Each directory is read whole
// (names and sizes come in the same replies) before fn is called for its
// files.
func (s *SFTP) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := t.Valid(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	dir := path.Join(s.dir, string(t))
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", s.url(dir), err)
	}
	if s.closed.Load() {
		return fmt.Errorf("list %s: %w", s.url(dir), errClosed)
	}
	switch t {
	case backend.ConfigFile:
		fi, err := s.c.Stat(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return s.mapErr("list", s.url(dir), err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		return fn(backend.FileInfo{Name: "", Size: fi.Size()})
	case backend.PackFile:
		subs, err := s.readDir(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range subs {
			sub := e.Name()
			if !e.IsDir() || len(sub) != 2 {
				continue
			}
			if err := s.listDir(ctx, t, path.Join(dir, sub), sub, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return s.listDir(ctx, t, dir, "", fn)
}

// listDir reports the files of type t in dir whose names start with
// prefix. fn's error is returned unwrapped.
func (s *SFTP) listDir(ctx context.Context, t backend.FileType, dir, prefix string, fn func(backend.FileInfo) error) error {
	entries, err := s.readDir(ctx, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %s: %w", s.url(dir), err)
		}
		name := e.Name()
		if !e.Mode().IsRegular() || !strings.HasPrefix(name, prefix) {
			continue
		}
		if (backend.Handle{Type: t, Name: name}).Valid() != nil {
			continue // temporary files and foreign names
		}
		if err := fn(backend.FileInfo{Name: name, Size: e.Size()}); err != nil {
			return err
		}
	}
	return nil
}

// readDir returns the entries of dir; a missing dir has none.
func (s *SFTP) readDir(ctx context.Context, dir string) ([]os.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", s.url(dir), err)
	}
	entries, err := s.c.ReadDirContext(ctx, dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("list %s: %w", s.url(dir), cerr)
		}
		return nil, s.mapErr("list", s.url(dir), err)
	}
	return entries, nil
}
