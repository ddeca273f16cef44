package sftp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"

	"golang.org/x/sync/errgroup"

	"github.com/gobak/gobak/pkg/backend"
)

// layoutWorkers is how many mkdir requests Create keeps in flight, so that
// the 261 directories cost a few round trips, not 261.
const layoutWorkers = 32

// create makes the repository layout in s.dir (see Create).
func (s *SFTP) create(ctx context.Context) error {
	fi, err := s.c.Stat(s.dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("init: %s exists and is not a directory: %w", s.loc, backend.ErrExist)
	case err == nil:
		entries, err := s.c.ReadDirContext(ctx, s.dir)
		if err != nil {
			return s.mapErr("init", s.loc, err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("init: %s is not empty: %w", s.loc, backend.ErrExist)
		}
	case errors.Is(err, os.ErrNotExist):
		if err := s.mkdirAll(s.dir); err != nil {
			return s.mapErr("init", s.loc, err)
		}
	default:
		return s.mapErr("init", s.loc, err)
	}

	var dirs []string
	for _, t := range backend.FileTypes() {
		if t != backend.ConfigFile {
			dirs = append(dirs, path.Join(s.dir, string(t)))
		}
	}
	data := path.Join(s.dir, string(backend.PackFile))
	if err := s.mkdir(data); err != nil {
		return s.mapErr("init", s.url(data), err)
	}
	for i := range 256 {
		dirs = append(dirs, path.Join(data, fmt.Sprintf("%02x", i)))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(layoutWorkers)
	for _, d := range dirs {
		if d == data {
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return fmt.Errorf("init %s: %w", s.loc, err)
			}
			if err := s.mkdir(d); err != nil {
				return s.mapErr("init", s.url(d), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Entries are made durable by syncing their parents.
	for _, d := range []string{data, s.dir, path.Dir(s.dir)} {
		if err := s.syncDir(d); err != nil {
			return s.mapErr("init", s.loc, err)
		}
	}
	return nil
}

// mkdir creates dir with mode 0700.
func (s *SFTP) mkdir(dir string) error {
	if err := s.c.Mkdir(dir); err != nil {
		return err
	}
	return s.c.Chmod(dir, dirMode)
}

// mkdirAll creates dir and its missing parents, mode 0700, syncing the
// directories they were created in.
func (s *SFTP) mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; {
		_, err := s.c.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		parent := path.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := s.mkdir(missing[i]); err != nil {
			// Created concurrently by someone else?
			if fi, serr := s.c.Stat(missing[i]); serr != nil || !fi.IsDir() {
				return err
			}
		}
		if err := s.syncDir(path.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// syncDir fsyncs the directory dir on the server, so that entries created
// or removed in it are durable. SFTP has no directory fsync as such, but
// OpenSSH's server opens a directory like a file and fsync@openssh.com
// then fsyncs it. Servers without fsync@openssh.com, or that refuse to
// open a directory, get no directory sync (durability is then up to the
// server); only a lost connection is reported as an error.
func (s *SFTP) syncDir(dir string) error {
	if !s.fsync {
		return nil
	}
	f, err := s.c.Open(dir)
	if err != nil {
		if isLost(err) {
			return err
		}
		return nil
	}
	err = f.Sync()
	cerr := f.Close()
	if isLost(err) {
		return err
	}
	if isLost(cerr) {
		return cerr
	}
	return nil
}
