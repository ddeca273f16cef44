package sftp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"

	"github.com/pkg/sftp"

	"github.com/gobak/gobak/pkg/backend"
)

// tempPrefix starts the name of every temporary file, as in package
// local. A dot never appears in a valid handle name, so List skips them.
const tempPrefix = ".tmp-"

// writeChunk is how much Save writes (pipelined) between context checks.
const writeChunk = 4 << 20

// errNoDir reports that the directory a temporary file was to be created
// in does not exist.
var errNoDir = errors.New("directory missing")

// Save writes data to h atomically and durably, following the
// backend.Backend contract. If the data/xx subdirectory of a pack is
// missing it is recreated (data/ itself is not) and the write retried
// once, as in package local.
func (s *SFTP) Save(ctx context.Context, h backend.Handle, data []byte) error {
	name, err := s.prepare(ctx, "save", h)
	if err != nil {
		return err
	}
	dir := path.Dir(name)
	err = s.save(ctx, dir, name, data)
	if errors.Is(err, errNoDir) && h.Type == backend.PackFile {
		// Mkdir, not MkdirAll: if data/ itself is gone, the repository
		// is probably not there and must not be recreated.
		merr := s.mkdir(dir)
		if merr == nil {
			merr = s.syncDir(path.Dir(dir))
		}
		switch {
		case errors.Is(merr, os.ErrNotExist):
			return fmt.Errorf("save %s: directory %s: %w", s.url(name), s.url(path.Dir(dir)), backend.ErrNotExist)
		case merr != nil:
			// Perhaps created concurrently; the retry will tell.
			if fi, serr := s.c.Stat(dir); serr != nil || !fi.IsDir() {
				return s.mapErr("save", s.url(name), merr)
			}
		}
		err = s.save(ctx, dir, name, data)
	}
	if errors.Is(err, errNoDir) {
		return fmt.Errorf("save %s: directory %s: %w", s.url(name), s.url(dir), backend.ErrNotExist)
	}
	return err
}

// save is one attempt of Save. It returns errNoDir if dir does not exist.
func (s *SFTP) save(ctx context.Context, dir, name string, data []byte) error {
	tmp, err := s.writeTemp(ctx, dir, name, data)
	if err != nil {
		return err
	}
	// Removing the temporary name is best effort: a leftover temporary
	// file is harmless (List skips it, RemoveTemp deletes it).
	if err := ctx.Err(); err != nil {
		_ = s.c.Remove(tmp)
		return fmt.Errorf("save %s: %w", s.url(name), err)
	}
	if s.hardlink {
		err = s.c.Link(tmp, name)
		_ = s.c.Remove(tmp)
	} else {
		// SSH_FXP_RENAME never replaces an existing file (OpenSSH
		// implements it with link+unlink).
		err = s.c.Rename(tmp, name)
		if err != nil {
			_ = s.c.Remove(tmp)
		}
	}
	if err != nil {
		if isLost(err) {
			return s.mapErr("save", s.url(name), err)
		}
		// SFTP v3 has no "file exists" status; look.
		if _, serr := s.c.Lstat(name); serr == nil {
			return fmt.Errorf("save %s: %w", s.url(name), backend.ErrExist)
		}
		return s.mapErr("save", s.url(name), err)
	}
	if err := s.syncDir(dir); err != nil {
		return s.mapErr("save", s.url(name), err)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir (for the file
// name), fsynced if the server can, and returns its path. It returns
// errNoDir if dir does not exist; on any error the temporary file is
// removed.
func (s *SFTP) writeTemp(ctx context.Context, dir, name string, data []byte) (string, error) {
	f, tmp, err := s.createTemp(dir)
	if errors.Is(err, errNoDir) {
		return "", err
	}
	if err != nil {
		return "", s.mapErr("save", s.url(name), err)
	}
	err = writeAll(ctx, f, data)
	if err == nil && s.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.c.Remove(tmp)
		if cerr := ctx.Err(); cerr != nil {
			return "", fmt.Errorf("save %s: %w", s.url(name), cerr)
		}
		return "", s.mapErr("save", s.url(name), err)
	}
	return tmp, nil
}

// writeAll writes data to f in pipelined chunks, checking ctx between
// them.
func writeAll(ctx context.Context, f *sftp.File, data []byte) error {
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(data), writeChunk)
		if _, err := f.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// createTemp creates a new temporary file in dir, exclusively, and sets
// its mode to 0400 before anything is written. It returns errNoDir if dir
// does not exist.
func (s *SFTP) createTemp(dir string) (*sftp.File, string, error) {
	var rnd [16]byte
	for range 10 {
		rand.Read(rnd[:])
		name := path.Join(dir, tempPrefix+hex.EncodeToString(rnd[:]))
		f, err := s.c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		switch {
		case err == nil:
			if err := f.Chmod(fileMode); err != nil {
				_ = f.Close()
				_ = s.c.Remove(name)
				return nil, "", fmt.Errorf("chmod temporary file: %w", err)
			}
			return f, name, nil
		case errors.Is(err, os.ErrNotExist):
			return nil, "", errNoDir
		case isLost(err):
			return nil, "", err
		}
		// SFTP v3 reports an existing name as a generic failure: check
		// whether that is what happened (astronomically unlikely).
		if _, serr := s.c.Lstat(name); serr != nil {
			return nil, "", fmt.Errorf("create temporary file: %w", err)
		}
	}
	return nil, "", fmt.Errorf("create temporary file in %s: too many collisions", s.url(dir))
}
