package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gobak/gobak/pkg/backend"
)

// RemoveTemp deletes the temporary files (".tmp-*") that interrupted Saves
// left in the repository directory, its type directories and data/xx,
// if they were last modified more than olderThan ago. Pick olderThan well
// above the duration of any Save, so that a concurrent Save by another
// process is not disturbed (compact holds an exclusive lock anyway).
//
// It returns how many files it deleted. It carries on past errors and
// returns them joined; a missing directory is not an error.
func (l *Local) RemoveTemp(olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	dirs := []string{l.dir}
	for _, t := range backend.FileTypes() {
		if t != backend.ConfigFile {
			dirs = append(dirs, filepath.Join(l.dir, string(t)))
		}
	}
	data := filepath.Join(l.dir, string(backend.PackFile))
	err := walkDir(data, func(e fs.DirEntry) error {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(data, e.Name()))
		}
		return nil
	})
	errs := []error{err}

	removed := 0
	for _, dir := range dirs {
		n, err := removeTemp(dir, cutoff)
		removed += n
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("remove temporary files: %w", err)
	}
	return removed, nil
}

// removeTemp deletes the temporary files in dir modified before cutoff
// and fsyncs dir if it deleted any.
func removeTemp(dir string, cutoff time.Time) (int, error) {
	removed := 0
	var errs []error
	err := walkDir(dir, func(e fs.DirEntry) error {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		if !fi.ModTime().Before(cutoff) {
			return nil
		}
		err = os.Remove(filepath.Join(dir, e.Name()))
		switch {
		case err == nil:
			removed++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
		return nil
	})
	errs = append(errs, err)
	if removed > 0 {
		errs = append(errs, syncDir(dir))
	}
	return removed, errors.Join(errs...)
}
