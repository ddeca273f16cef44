package s3

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/gobak/gobak/pkg/backend"
)

// errClosed is returned by operations on a closed backend.
var errClosed = errors.New("s3 backend is closed")

// S3 is a backend.Backend storing files as objects of a bucket of an S3
// server. It is safe for concurrent use, also by several processes on the
// same repository.
type S3 struct {
	cfg Config        // with defaults, Prefix cleaned
	c   *minio.Client // retries cfg.MaxAttempts times
	put *minio.Client // tries once: Save retries itself (see Save)
	loc string
	tr  interface{ CloseIdleConnections() }

	closed atomic.Bool
}

var _ backend.Backend = (*S3)(nil)

// Open returns an S3 for the repository cfg.Prefix in the existing bucket
// cfg.Bucket, after checking with one listing request (two if cfg.Region
// is empty) that the bucket exists and the credentials may list it. A missing bucket gives an error wrapping ErrBucketNotExist
// and backend.ErrNotExist; refused credentials an error wrapping
// ErrAccessDenied; an invalid cfg an error wrapping ErrConfig. Like
// local.Open, Open does not check that the prefix holds a repository
// (package repo reads the config for that).
func Open(ctx context.Context, cfg Config) (*S3, error) {
	s, err := newS3(cfg)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", cfg.location(), err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", s.loc, err)
	}
	if _, err := s.probe(ctx); err != nil {
		s.closeIdle()
		return nil, s.mapErr("open repository", s.loc, err)
	}
	return s, nil
}

// Create returns an S3 for a new repository at cfg.Prefix in cfg.Bucket,
// creating the bucket (in cfg.Region) if it does not exist. If the prefix
// already holds objects, Create returns an error wrapping backend.ErrExist
// that names the location. A bucket that cannot be created (for example
// because the credentials may not create buckets) gives an error naming
// it, wrapping ErrAccessDenied where that is the reason. Create writes no
// object: S3 needs no directories, and package repo saves the config.
func Create(ctx context.Context, cfg Config) (*S3, error) {
	s, err := newS3(cfg)
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", cfg.location(), err)
	}
	if err := s.create(ctx); err != nil {
		s.closeIdle()
		return nil, err
	}
	return s, nil
}

// create makes the bucket if needed and checks that the prefix is empty.
func (s *S3) create(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("init %s: %w", s.loc, err)
	}
	key, err := s.probe(ctx)
	if minio.ToErrorResponse(err).Code == codeNoSuchBucket {
		err = s.c.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return s.mapErr("init: create bucket", s.cfg.Bucket, err)
		}
		key, err = s.probe(ctx)
	}
	if err != nil {
		return s.mapErr("init", s.loc, err)
	}
	if key != "" {
		return fmt.Errorf("init: %s is not empty (it holds %s): %w", s.loc, key, backend.ErrExist)
	}
	if err := s.checkConditionalWrites(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("init %s: %w", s.loc, err)
	}
	return nil
}

// checkConditionalWrites makes sure the server refuses a conditional PUT
// (If-None-Match: *) over an existing object: a server that ignores the
// condition would let Save overwrite data, which gobak must never do. It
// writes a probe object twice under a name List ignores, and removes it.
func (s *S3) checkConditionalWrites(ctx context.Context) error {
	var nonce [8]byte
	if _, err := crand.Read(nonce[:]); err != nil {
		return fmt.Errorf("init %s: %w", s.loc, err)
	}
	key := s.objectKey(".gobak-init-probe-" + hex.EncodeToString(nonce[:]))
	defer func() {
		_ = s.c.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, key, minio.RemoveObjectOptions{})
	}()
	if err := s.putObject(ctx, "init", key, []byte("first"), true); err != nil {
		return err
	}
	err := s.putObject(ctx, "init", key, []byte("second"), true)
	switch {
	case errors.Is(err, backend.ErrExist):
		return nil
	case err == nil:
		return fmt.Errorf("init %s: %w: the server ignored If-None-Match and overwrote an object; gobak needs conditional writes (as AWS S3, MinIO and versitygw have) so that nothing stored is ever overwritten", s.loc, ErrNoConditionalWrites)
	}
	return err
}

// probe lists at most one key under the prefix and returns it ("" if
// there is none). Unlike a HEAD of the bucket, a listing's error answer
// has a body, so a missing bucket and refused credentials are told apart.
func (s *S3) probe(ctx context.Context) (string, error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.c.ListObjects(lctx, s.cfg.Bucket, minio.ListObjectsOptions{
		Prefix:    s.dirKey(""),
		Recursive: true,
		MaxKeys:   1,
	}) {
		return obj.Key, obj.Err
	}
	return "", ctx.Err()
}

// newS3 makes the clients for cfg; it does no I/O.
func newS3(cfg Config) (*S3, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tr := newTransport(cfg.ConnectTimeout, cfg.IOTimeout)
	opts := func(attempts int) *minio.Options {
		var creds *credentials.Credentials
		if cfg.AccessKeyID != "" {
			creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
		} else {
			creds = credentials.New(&credentials.Static{}) // anonymous
		}
		return &minio.Options{
			Creds:        creds,
			Secure:       cfg.Secure,
			Transport:    tr,
			Region:       cfg.Region,
			BucketLookup: minio.BucketLookupAuto,
			MaxRetries:   attempts,
		}
	}
	c, err := minio.New(cfg.Endpoint, opts(cfg.MaxAttempts))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	put, err := minio.New(cfg.Endpoint, opts(1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &S3{cfg: cfg, c: c, put: put, loc: cfg.location(), tr: tr}, nil
}

// Location returns "s3://endpoint/bucket/prefix" (no credentials).
func (s *S3) Location() string { return s.loc }

// Bucket returns the bucket of the repository.
func (s *S3) Bucket() string { return s.cfg.Bucket }

// Prefix returns the cleaned prefix of the repository ("" for the root of
// the bucket); object keys are Prefix + "/" + the handle's relative path.
func (s *S3) Prefix() string { return s.cfg.Prefix }

// Close closes idle connections. Requests still running are not
// interrupted; later calls fail. Close always returns nil.
func (s *S3) Close() error {
	s.closed.Store(true)
	s.closeIdle()
	return nil
}

func (s *S3) closeIdle() { s.tr.CloseIdleConnections() }

// dirKey returns the key prefix of the relative directory rel ("" for the
// repository itself), ending in "/" unless the repository is the bucket
// root and rel is "".
func (s *S3) dirKey(rel string) string {
	k := s.objectKey(rel)
	if k == "" || k[len(k)-1] == '/' {
		return k
	}
	return k + "/"
}

// objectKey returns the key of the relative path rel.
func (s *S3) objectKey(rel string) string {
	if s.cfg.Prefix == "" {
		return rel
	}
	if rel == "" {
		return s.cfg.Prefix
	}
	return s.cfg.Prefix + "/" + rel
}

// url returns a readable name of the object key for messages.
func (s *S3) url(key string) string {
	return "s3://" + s.cfg.Endpoint + "/" + s.cfg.Bucket + "/" + key
}

// prepare validates h, the backend and ctx for operation op and returns
// h's object key.
func (s *S3) prepare(ctx context.Context, op string, h backend.Handle) (string, error) {
	if err := h.Valid(); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	key := s.objectKey(h.String())
	if s.closed.Load() {
		return "", fmt.Errorf("%s %s: %w", op, s.url(key), errClosed)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s %s: %w", op, s.url(key), err)
	}
	return key, nil
}
