package sftp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/gobak/gobak/pkg/backend"
)

// RemoveTemp deletes the temporary files (".tmp-*") that interrupted Saves
// left in the repository directory, its type directories and data/xx, if
// they were last modified more than olderThan ago (by the server's clock
// compared with ours: pick olderThan well above any Save's duration plus
// clock skew). It mirrors local.Local.RemoveTemp.
//
// It returns how many files it deleted. It carries on past errors and
// returns them joined; a missing directory is not an error.
func (s *SFTP) RemoveTemp(olderThan time.Duration) (int, error) {
	ctx := context.Background()
	cutoff := time.Now().Add(-olderThan)
	dirs := []string{s.dir}
	for _, t := range backend.FileTypes() {
		if t != backend.ConfigFile {
			dirs = append(dirs, path.Join(s.dir, string(t)))
		}
	}
	data := path.Join(s.dir, string(backend.PackFile))
	subs, err := s.readDir(ctx, data)
	for _, e := range subs {
		if e.IsDir() {
			dirs = append(dirs, path.Join(data, e.Name()))
		}
	}
	errs := []error{err}
	removed := 0
	for _, dir := range dirs {
		n, err := s.removeTemp(ctx, dir, cutoff)
		removed += n
		errs = append(errs, err)
		if isLost(err) || errors.Is(err, ErrConnectionLost) {
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("remove temporary files: %w", err)
	}
	return removed, nil
}

// removeTemp deletes the temporary files in dir modified before cutoff and
// syncs dir if it deleted any.
func (s *SFTP) removeTemp(ctx context.Context, dir string, cutoff time.Time) (int, error) {
	entries, err := s.readDir(ctx, dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.Mode().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) || !e.ModTime().Before(cutoff) {
			continue
		}
		p := path.Join(dir, e.Name())
		err := s.c.Remove(p)
		switch {
		case err == nil:
			removed++
		case errors.Is(err, os.ErrNotExist):
		default:
			errs = append(errs, s.mapErr("remove", s.url(p), err))
			if isLost(err) {
				return removed, errors.Join(errs...)
			}
		}
	}
	if removed > 0 {
		if err := s.syncDir(dir); err != nil {
			errs = append(errs, s.mapErr("sync", s.url(dir), err))
		}
	}
	return removed, errors.Join(errs...)
}

// Replace atomically replaces the content of the existing or missing file
// h with data (posix-rename@openssh.com): a reader sees either the old
// content or all of data. It is meant for repairing the config file;
// repository data files are never replaced. When Replace returns nil the
// new content is durable as far as the server allows. Servers without
// posix-rename@openssh.com get an error (a plain SFTP rename cannot
// replace atomically).
func (s *SFTP) Replace(ctx context.Context, h backend.Handle, data []byte) error {
	name, err := s.prepare(ctx, "replace", h)
	if err != nil {
		return err
	}
	if !s.posixRename {
		return fmt.Errorf("replace %s: server lacks %s", s.url(name), extPosixRename)
	}
	dir := path.Dir(name)
	tmp, err := s.writeTemp(ctx, dir, name, data)
	if errors.Is(err, errNoDir) {
		return fmt.Errorf("replace %s: directory %s: %w", s.url(name), s.url(dir), backend.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("replace: %w", err)
	}
	if err := s.c.PosixRename(tmp, name); err != nil {
		_ = s.c.Remove(tmp)
		return s.mapErr("replace", s.url(name), err)
	}
	if err := s.syncDir(dir); err != nil {
		return s.mapErr("replace", s.url(name), err)
	}
	return nil
}
