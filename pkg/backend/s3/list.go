package s3

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/gobak/gobak/pkg/backend"
)

// List calls fn for every object of type t, following the
// backend.Backend contract. It lists the keys under Prefix/<t>/ (all of
// data/ for packs) page by page (1000 keys a request on S3) and reports
// only keys that are exactly where Save would put a valid handle (for
// packs, data/<first two characters>/<name>); other keys are skipped.
// ConfigFile is checked with a HEAD. fn runs on List's goroutine and may
// call the backend; the listing is stopped when fn returns an error.
func (s *S3) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := t.Valid(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	dir := s.dirKey(string(t))
	if s.closed.Load() {
		return fmt.Errorf("list %s: %w", s.url(dir), errClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", s.url(dir), err)
	}
	if t == backend.ConfigFile {
		fi, err := s.Stat(ctx, backend.Handle{Type: t})
		if errors.Is(err, backend.ErrNotExist) && !errors.Is(err, ErrBucketNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		return fn(fi)
	}

	lctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine
	for obj := range s.c.ListObjects(lctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: dir, Recursive: true}) {
		if obj.Err != nil {
			return s.mapErr("list", s.url(dir), obj.Err)
		}
		name, ok := handleName(t, strings.TrimPrefix(obj.Key, dir))
		if !ok {
			continue // foreign keys, "directory" markers
		}
		if err := fn(backend.FileInfo{Name: name, Size: obj.Size}); err != nil {
			return err
		}
	}
	// The channel also closes when ctx is canceled; say so.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", s.url(dir), err)
	}
	return nil
}

// handleName returns the handle name of the key rel (relative to the
// directory of type t) if Save would store that handle there.
func handleName(t backend.FileType, rel string) (string, bool) {
	name := rel
	if t == backend.PackFile {
		sub, n, ok := strings.Cut(rel, "/")
		if !ok || len(n) < 2 || n[:2] != sub {
			return "", false
		}
		name = n
	}
	if (backend.Handle{Type: t, Name: name}).Valid() != nil {
		return "", false
	}
	return name, true
}
