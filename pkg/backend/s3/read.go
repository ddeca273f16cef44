package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/gobak/gobak/pkg/backend"
)

// body is the reader Load returns: the response body, whose request
// context is released on Close.
type body struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// Load returns a reader of length bytes of h from offset with one ranged
// GET, following the backend.Backend contract: a range beyond the end of
// the object gives fewer bytes or none. ctx bounds the request until the
// response starts; reading the body is bound only by Config.IOTimeout,
// and a connection that breaks while it is read makes Read fail (no
// retry: the data read so far has been handed out).
func (s *S3) Load(ctx context.Context, h backend.Handle, offset, length int64) (io.ReadCloser, error) {
	key, err := s.prepare(ctx, "load", h)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("load %s: negative offset %d", s.url(key), offset)
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		err = opts.SetRange(offset, offset+length-1)
	case offset > 0:
		err = opts.SetRange(offset, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", s.url(key), err)
	}

	// The request must outlive ctx once it has answered (the contract
	// does not bind reading to ctx), but be canceled with it until then.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	rd, _, _, err := minio.Core{Client: s.c}.GetObject(rctx, s.cfg.Bucket, key, opts)
	if !stop() {
		// ctx was done before the answer: the request was canceled.
		if err == nil {
			_ = rd.Close()
		}
		cancel()
		return nil, fmt.Errorf("load %s: %w", s.url(key), ctx.Err())
	}
	if err != nil {
		cancel()
		resp := minio.ToErrorResponse(err)
		if resp.Code == codeInvalidRange || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			// The object exists but starts after offset (or is empty).
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, s.mapErr("load", s.url(key), err)
	}
	return &body{ReadCloser: rd, cancel: cancel}, nil
}

// Stat returns the size of h with one HEAD request.
func (s *S3) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	key, err := s.prepare(ctx, "stat", h)
	if err != nil {
		return backend.FileInfo{}, err
	}
	info, err := s.c.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return backend.FileInfo{}, s.mapErr("stat", s.url(key), err)
	}
	return backend.FileInfo{Name: h.Name, Size: info.Size}, nil
}

// Remove deletes the object of h. S3's DELETE succeeds for a missing
// object, so Remove first checks with a HEAD that it exists and returns
// an error wrapping backend.ErrNotExist if not. Of two concurrent Removes
// of the same file both may therefore succeed; that is harmless, as the
// file is gone either way. A successful DELETE is durable on S3.
func (s *S3) Remove(ctx context.Context, h backend.Handle) error {
	key, err := s.prepare(ctx, "remove", h)
	if err != nil {
		return err
	}
	if _, err := s.c.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{}); err != nil {
		return s.mapErr("remove", s.url(key), err)
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.mapErr("remove", s.url(key), err)
	}
	return nil
}
