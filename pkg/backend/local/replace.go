package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gobak/gobak/pkg/backend"
)

// Replace atomically replaces the content of the existing or missing file
// h with data: a reader sees either the old content or all of data, and
// after a crash one of the two is there, never neither. It is meant for
// repairing the config file (check --repair); repository data files are
// never replaced. When Replace returns nil the new content is durable.
func (l *Local) Replace(ctx context.Context, h backend.Handle, data []byte) error {
	name, err := l.prepare(ctx, "replace", h)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	tmpName, err := writeTemp(ctx, dir, name, data)
	if err != nil {
		return fmt.Errorf("replace: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = os.Remove(tmpName)
		}
	}()
	if err := os.Rename(tmpName, name); err != nil {
		return mapErr("replace", name, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	return nil
}
