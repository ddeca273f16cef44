package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gobak/gobak/pkg/backend"
)

// tempPrefix starts the name of every temporary file. A dot can never
// appear in a valid handle name, so temporary files never collide with
// real ones and List skips them.
const tempPrefix = ".tmp-"

// errNoDir reports that the directory a temporary file was to be created
// in does not exist.
var errNoDir = errors.New("directory missing")

// Save writes data to h atomically and durably, following the
// backend.Backend contract. If the data/xx subdirectory of a pack is
// missing it is recreated (data/ itself is not) and the write retried once.
func (l *Local) Save(ctx context.Context, h backend.Handle, data []byte) error {
	name, err := l.prepare(ctx, "save", h)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	err = l.save(ctx, dir, name, data)
	if errors.Is(err, errNoDir) && h.Type == backend.PackFile {
		// Mkdir, not MkdirAll: if data/ itself is gone, the repository
		// is probably not mounted and must not be recreated.
		merr := mkdirSync(dir)
		switch {
		case errors.Is(merr, fs.ErrNotExist):
			return fmt.Errorf("save %s: directory %s: %w", name, filepath.Dir(dir), backend.ErrNotExist)
		case merr != nil && !errors.Is(merr, fs.ErrExist):
			return fmt.Errorf("save %s: %w", name, merr)
		}
		err = l.save(ctx, dir, name, data)
	}
	if errors.Is(err, errNoDir) {
		return fmt.Errorf("save %s: directory %s: %w", name, dir, backend.ErrNotExist)
	}
	return err
}

// save is one attempt of Save. It returns errNoDir if dir does not exist.
func (l *Local) save(ctx context.Context, dir, name string, data []byte) error {
	tmpName, err := writeTemp(ctx, dir, name, data)
	if err != nil {
		return err
	}
	linked := false
	defer func() {
		if !linked {
			// Best effort: a leftover temp file is harmless (List skips
			// it, RemoveTemp deletes it).
			_ = os.Remove(tmpName)
		}
	}()
	if err := os.Link(tmpName, name); err != nil {
		return mapErr("save", name, err)
	}
	linked = true
	// The data is safely under its final name; a failure to remove the
	// temporary name only leaves garbage for RemoveTemp.
	_ = os.Remove(tmpName)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

// writeTemp writes data durably to a new temporary file in dir (for the
// file name) and returns its path. It returns errNoDir if dir does not
// exist; on any error the temporary file is removed.
func writeTemp(ctx context.Context, dir, name string, data []byte) (string, error) {
	tmp, err := createTemp(dir)
	if errors.Is(err, errNoDir) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("save %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("save %s: %w", name, err)
	}
	return tmp.Name(), nil
}

// createTemp creates a new temporary file in dir, exclusively and with
// mode 0400. It returns errNoDir if dir does not exist.
func createTemp(dir string) (*os.File, error) {
	var rnd [16]byte
	for range 10 {
		rand.Read(rnd[:])
		name := filepath.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		switch {
		case err == nil:
			return f, nil
		case errors.Is(err, fs.ErrExist):
			continue // astronomically unlikely; pick another name
		case errors.Is(err, fs.ErrNotExist):
			return nil, errNoDir
		default:
			return nil, fmt.Errorf("create temporary file: %w", err)
		}
	}
	return nil, fmt.Errorf("create temporary file in %s: too many collisions", dir)
}
