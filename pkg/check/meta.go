package check

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo"
)

// checkMeta checks the config, the key files and the locks. The config and
// the key that opened the repository were already verified by repo.Open;
// here the files are read again (they may have changed since) and the
// other key files are parsed.
func (c *checker) checkMeta() error {
	cfg := c.r.Config()
	data, err := backend.ReadAll(c.ctx, c.be, backend.Handle{Type: backend.ConfigFile})
	switch {
	case c.ctx.Err() != nil:
		return c.ctxErr()
	case err != nil:
		c.emit(Problem{Kind: KindConfig, Message: fmt.Sprintf("config file cannot be read: %v", err)})
	case len(data) == 0:
		c.emit(Problem{Kind: KindConfig, Message: "config file is empty"})
	}
	if err := cfg.Chunker.Validate(); err != nil {
		c.emit(Problem{Kind: KindConfig, Message: err.Error()})
	}
	if cfg.PackSize < repo.MinPackSize || cfg.PackSize > repo.MaxPackSize {
		c.emit(Problem{Kind: KindConfig, Message: fmt.Sprintf("pack size %d out of range", cfg.PackSize)})
	}
	if err := c.checkKeys(cfg); err != nil {
		return err
	}
	return c.checkLocks()
}

// checkKeys parses every key file of a repokey repository. Without the
// passphrases of the other keys only their structure and repository ID can
// be checked; the key that opened the repository must still hold the bytes
// it was opened with.
func (c *checker) checkKeys(cfg repo.Config) error {
	if cfg.Encryption != "repokey" {
		return nil
	}
	opened, _ := c.r.ExportKey()
	openedAt := c.r.KeyLocation()
	var names []string
	err := c.be.List(c.ctx, backend.KeyFile, func(fi backend.FileInfo) error {
		names = append(names, fi.Name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check: list keys: %w", err)
	}
	for _, n := range names {
		h := backend.Handle{Type: backend.KeyFile, Name: n}
		data, err := readSmall(c.ctx, c.be, h, 64<<10)
		if c.ctx.Err() != nil {
			return c.ctxErr()
		}
		if err != nil {
			c.emit(Problem{Kind: KindKey, Message: fmt.Sprintf("%s: %v", h, err)})
			continue
		}
		kf, err := crypto.ParseKeyFile(data)
		if err != nil {
			c.emit(Problem{Kind: KindKey, Message: fmt.Sprintf("%s: %v", h, err)})
			continue
		}
		if kf.Repository != cfg.ID {
			c.emit(Problem{Severity: Warning, Kind: KindKey, Message: fmt.Sprintf("%s belongs to repository %s, not this one", h, kf.Repository.Short())})
			continue
		}
		if h.String() == openedAt && opened != nil && !bytes.Equal(data, opened) {
			c.emit(Problem{Kind: KindKey, Message: fmt.Sprintf("%s changed since it opened the repository", h)})
		}
	}
	return nil
}

// readSmall reads a whole file of at most max bytes.
func readSmall(ctx context.Context, be backend.Backend, h backend.Handle, max int64) ([]byte, error) {
	fi, err := be.Stat(ctx, h)
	if err != nil {
		return nil, err
	}
	if fi.Size > max {
		return nil, fmt.Errorf("%d bytes is too large", fi.Size)
	}
	return backend.ReadAll(ctx, be, h)
}

// checkLocks reports lock files that cannot be read, and stale locks.
func (c *checker) checkLocks() error {
	locks, err := repo.Locks(c.ctx, c.be, c.o.Hostname)
	if err != nil {
		if c.ctx.Err() != nil {
			return c.ctxErr()
		}
		c.emit(Problem{Severity: Warning, Kind: KindLock, Message: fmt.Sprintf("locks cannot be listed: %v", err)})
		return nil
	}
	for _, l := range locks {
		switch {
		case l.Err != nil:
			c.emit(Problem{Severity: Warning, Kind: KindLock, Message: fmt.Sprintf("locks/%s cannot be read: %v (remove it with 'gobak break-lock' if no gobak process uses the repository)", l.Name, l.Err)})
		case l.Stale:
			c.emit(Problem{Severity: Warning, Kind: KindLock, Message: fmt.Sprintf("stale lock %s (remove it with 'gobak break-lock')", l)})
		}
	}
	return nil
}
