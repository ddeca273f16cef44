package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gobak/gobak/pkg/backend"
)

// dirMode is the permission of every directory Create makes.
const dirMode = 0o700

// fileMode is the permission of every file Save writes: files are
// write-once.
const fileMode = 0o400

// Local is a backend.Backend storing files under a directory. It is safe
// for concurrent use, also by several processes on the same directory.
type Local struct {
	dir string // absolute, cleaned
}

var _ backend.Backend = (*Local)(nil)

// Create makes a new, empty repository layout in dir: keys/, data/00 to
// data/ff, index/, archives/ and locks/, all fsynced. dir (and its missing
// parents) is created if it does not exist; if it exists it must be an
// empty directory, otherwise Create returns an error wrapping
// backend.ErrExist that names dir. Create does not write a config file.
func Create(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("init: %s exists and is not a directory: %w", abs, backend.ErrExist)
	case err == nil:
		empty, err := isEmpty(abs)
		if err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
		if !empty {
			return nil, fmt.Errorf("init: %s is not empty: %w", abs, backend.ErrExist)
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := mkdirAllSync(abs); err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
	default:
		return nil, fmt.Errorf("init: %w", err)
	}

	if err := makeLayout(abs); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	return &Local{dir: abs}, nil
}

// Open returns a Local for the existing directory dir. A missing dir gives
// an error wrapping backend.ErrNotExist; a dir that is not a directory, or
// any other failure, an error naming dir. Open does not check that dir
// holds a repository (package repo reads the config for that).
func Open(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, mapErr("open repository", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open repository %s: not a directory", abs)
	}
	return &Local{dir: abs}, nil
}

// Path returns the absolute path of the repository directory.
func (l *Local) Path() string { return l.dir }

// Location returns the absolute path of the repository directory.
func (l *Local) Location() string { return l.dir }

// Close does nothing and returns nil: a Local holds no open resources.
func (l *Local) Close() error { return nil }

// filename returns the path of h, which must be valid.
func (l *Local) filename(h backend.Handle) string {
	return filepath.Join(l.dir, filepath.FromSlash(h.String()))
}

// prepare validates h and ctx for operation op and returns h's path.
func (l *Local) prepare(ctx context.Context, op string, h backend.Handle) (string, error) {
	if err := h.Valid(); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	name := l.filename(h)
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, name, err)
	}
	return name, nil
}

// mapErr wraps err for op on path, turning a missing file into
// backend.ErrNotExist and an existing one into backend.ErrExist. Other
// errors (which name the path themselves) are wrapped as they are.
func mapErr(op, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %s: %w", op, path, backend.ErrNotExist)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s %s: %w", op, path, backend.ErrExist)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// makeLayout creates the type directories and data/00 to data/ff in the
// empty directory root and makes them durable. It fsyncs every new
// directory and then each parent once, rather than after each mkdir: the
// first fsync commits all of them on a journaling file system, so the rest
// are cheap.
func makeLayout(root string) error {
	var dirs []string
	for _, t := range backend.FileTypes() {
		if t != backend.ConfigFile {
			dirs = append(dirs, filepath.Join(root, string(t)))
		}
	}
	data := filepath.Join(root, string(backend.PackFile))
	for i := range 256 {
		dirs = append(dirs, filepath.Join(data, fmt.Sprintf("%02x", i)))
	}
	for _, d := range dirs {
		if err := os.Mkdir(d, dirMode); err != nil {
			return err
		}
	}
	for _, d := range append(dirs, data, root) {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// isEmpty reports whether the directory dir has no entries.
func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, nil
}
