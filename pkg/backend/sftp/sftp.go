package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/pkg/sftp"

	"github.com/gobak/gobak/pkg/backend"
)

// dirMode is the permission of every directory Create makes (as local).
const dirMode = 0o700

// fileMode is the permission of every file Save writes (as local).
const fileMode = 0o400

// OpenSSH protocol extensions used when the server announces them.
const (
	extFsync       = "fsync@openssh.com"
	extHardlink    = "hardlink@openssh.com"
	extPosixRename = "posix-rename@openssh.com"
)

// errClosed is returned by operations on a closed backend.
var errClosed = errors.New("sftp backend is closed")

// SFTP is a backend.Backend storing files under a directory of an SFTP
// server. It is safe for concurrent use (requests are pipelined over one
// connection), also by several processes on the same directory.
type SFTP struct {
	t      *transport
	c      *sftp.Client
	dir    string // absolute, cleaned, on the server
	loc    string
	closed atomic.Bool

	fsync       bool // fsync@openssh.com available
	hardlink    bool // hardlink@openssh.com available
	posixRename bool // posix-rename@openssh.com available
}

var _ backend.Backend = (*SFTP)(nil)

// Open connects as cfg says and returns an SFTP for the existing
// repository directory cfg.Path. A missing directory gives an error
// wrapping backend.ErrNotExist; a path that is not a directory, a failed
// connection or authentication, or a refused host key (ErrUnknownHost,
// ErrHostKeyChanged) an error naming the location. Open does not check
// that the directory holds a repository (package repo reads the config).
func Open(ctx context.Context, cfg Config) (*SFTP, error) {
	s, err := connect(ctx, &cfg, "open repository")
	if err != nil {
		return nil, err
	}
	fi, err := s.c.Stat(s.dir)
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("open repository %s: not a directory", s.loc)
	} else if err != nil {
		err = s.mapErr("open repository", s.loc, err)
	}
	if err != nil {
		_ = s.t.close()
		return nil, err
	}
	return s, nil
}

// Create connects as cfg says and makes a new, empty repository layout in
// cfg.Path: keys/, data/00 to data/ff, index/, archives/ and locks/, mode
// 0700, fsynced where the server allows. The directory (and its missing
// parents) is created if it does not exist; if it exists it must be an
// empty directory, otherwise Create returns an error wrapping
// backend.ErrExist that names it. Create does not write a config file.
func Create(ctx context.Context, cfg Config) (*SFTP, error) {
	s, err := connect(ctx, &cfg, "init")
	if err != nil {
		return nil, err
	}
	if err := s.create(ctx); err != nil {
		_ = s.t.close()
		return nil, err
	}
	return s, nil
}

// connect validates cfg, opens the transport and resolves the repository
// path; op prefixes errors.
func connect(ctx context.Context, cfg *Config, op string) (*SFTP, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, cfg.location(cfg.Path), err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, cfg.location(cfg.Path), err)
	}
	var t *transport
	var err error
	if len(cfg.Command) > 0 {
		t, err = startCommand(ctx, cfg)
	} else {
		t, err = dialNative(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, cfg.location(cfg.Path), err)
	}
	s := &SFTP{t: t, c: t.client}
	s.fsync = hasExt(t.client, extFsync)
	s.hardlink = hasExt(t.client, extHardlink)
	s.posixRename = hasExt(t.client, extPosixRename)

	dir := strings.TrimPrefix(cfg.Path, "~/")
	if !path.IsAbs(dir) {
		home, err := t.client.Getwd()
		if err != nil {
			_ = t.close()
			return nil, fmt.Errorf("%s %s: home directory: %w", op, cfg.location(cfg.Path), err)
		}
		dir = path.Join(home, dir)
	}
	s.dir = path.Clean(dir)
	s.loc = cfg.location(s.dir)
	return s, nil
}

// hasExt reports whether the server announced version 1 of extension ext.
func hasExt(c *sftp.Client, ext string) bool {
	v, ok := c.HasExtension(ext)
	return ok && v == "1"
}

// Location returns "sftp://user@host:port/absolute/path".
func (s *SFTP) Location() string { return s.loc }

// Path returns the absolute path of the repository directory on the
// server.
func (s *SFTP) Path() string { return s.dir }

// Close ends the SFTP session and the SSH connection or command. It is
// safe to call more than once; later calls return nil. Operations after
// Close return an error.
func (s *SFTP) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.t.close(); err != nil {
		return fmt.Errorf("close %s: %w", s.loc, err)
	}
	return nil
}

// filename returns the server path of h, which must be valid.
func (s *SFTP) filename(h backend.Handle) string {
	return path.Join(s.dir, h.String())
}

// prepare validates h and ctx for operation op and returns h's path.
func (s *SFTP) prepare(ctx context.Context, op string, h backend.Handle) (string, error) {
	if err := h.Valid(); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	name := s.filename(h)
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, s.url(name), err)
	}
	if s.closed.Load() {
		return "", fmt.Errorf("%s %s: %w", op, s.url(name), errClosed)
	}
	return name, nil
}

// url returns the location of the server path p, for messages.
func (s *SFTP) url(p string) string {
	return s.loc + strings.TrimPrefix(p, s.dir)
}

// isLost reports whether err means the connection is gone.
func isLost(err error) bool {
	return errors.Is(err, sftp.ErrSSHFxConnectionLost) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, os.ErrClosed)
}

// mapErr wraps err for op on what (a location), turning a missing file
// into backend.ErrNotExist and a dead connection into ErrConnectionLost.
func (s *SFTP) mapErr(op, what string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s %s: %w", op, what, backend.ErrNotExist)
	case isLost(err):
		return fmt.Errorf("%s %s: %w (%v)", op, what, ErrConnectionLost, err)
	}
	return fmt.Errorf("%s %s: %w", op, what, err)
}
