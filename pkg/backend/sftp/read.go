package sftp

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/pkg/sftp"

	"github.com/gobak/gobak/pkg/backend"
)

// fileReader reads at most remaining bytes of an open remote file from a
// given offset. A large Read is split into pipelined requests by pkg/sftp.
type fileReader struct {
	f         *sftp.File
	off       int64
	remaining int64 // < 0: up to the end
	loc       string
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.remaining == 0 {
		return 0, io.EOF
	}
	if r.remaining > 0 && int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	if r.remaining > 0 {
		r.remaining -= int64(n)
	}
	if err != nil && err != io.EOF {
		if isLost(err) {
			err = fmt.Errorf("read %s: %w (%v)", r.loc, ErrConnectionLost, err)
		} else {
			err = fmt.Errorf("read %s: %w", r.loc, err)
		}
	}
	if err == nil && n < len(p) {
		// ReadAt only returns short at the end of the file.
		err = io.EOF
	}
	return n, err
}

func (r *fileReader) Close() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", r.loc, err)
	}
	return nil
}

// Load opens h and returns a reader of length bytes from offset,
// following the backend.Backend contract. Reading from it fails with an
// error wrapping ErrConnectionLost if the connection is lost.
func (s *SFTP) Load(ctx context.Context, h backend.Handle, offset, length int64) (io.ReadCloser, error) {
	name, err := s.prepare(ctx, "load", h)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("load %s: negative offset %d", s.url(name), offset)
	}
	f, err := s.c.Open(name)
	if err != nil {
		return nil, s.mapErr("load", s.url(name), err)
	}
	if length <= 0 {
		length = -1
	}
	return &fileReader{f: f, off: offset, remaining: length, loc: s.url(name)}, nil
}

// Stat returns the size of h. It fails if h is not a regular file.
func (s *SFTP) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	name, err := s.prepare(ctx, "stat", h)
	if err != nil {
		return backend.FileInfo{}, err
	}
	fi, err := s.c.Stat(name)
	if err != nil {
		return backend.FileInfo{}, s.mapErr("stat", s.url(name), err)
	}
	if !fi.Mode().IsRegular() {
		return backend.FileInfo{}, fmt.Errorf("stat %s: not a regular file (%s)", s.url(name), fi.Mode().Type())
	}
	return backend.FileInfo{Name: h.Name, Size: fi.Size()}, nil
}

// Remove deletes h and fsyncs its directory (where the server allows).
func (s *SFTP) Remove(ctx context.Context, h backend.Handle) error {
	name, err := s.prepare(ctx, "remove", h)
	if err != nil {
		return err
	}
	if err := s.c.Remove(name); err != nil {
		return s.mapErr("remove", s.url(name), err)
	}
	if err := s.syncDir(path.Dir(name)); err != nil {
		return s.mapErr("remove", s.url(name), err)
	}
	return nil
}
