package s3

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gobak/gobak/pkg/backend"
)

// nonceMeta is the user metadata key (x-amz-meta-gobak-save) holding a
// random value unique to one Save call. It lets a retried conditional PUT
// that fails with 412 recognize that its own earlier attempt succeeded.
const nonceMeta = "Gobak-Save"

// Backoff between the attempts of a Save, as minio-go does for the other
// requests: random in [0, min(retryCap, retryUnit*2^attempt)).
const (
	retryUnit = 200 * time.Millisecond
	retryCap  = time.Second
)

// retryCodes are S3 error codes worth another attempt.
var retryCodes = map[string]bool{
	"RequestTimeout":             true,
	"InternalError":              true,
	"ServiceUnavailable":         true,
	"SlowDown":                   true,
	"Throttling":                 true,
	"RequestLimitExceeded":       true,
	"ConditionalRequestConflict": true, // AWS: a concurrent conditional write
	"OperationAborted":           true,
}

// Save stores data as the object of h with a single PUT carrying
// "If-None-Match: *", so the server refuses it (412) if the object
// exists: Save then returns an error wrapping backend.ErrExist and the
// existing object is untouched. The server creates the object atomically
// (nothing is visible until the whole body has arrived and its
// Content-MD5 has been verified), so an interrupted or corrupted upload
// leaves no object. Network errors, 5xx and throttling answers are
// retried (Config.MaxAttempts); if a retry gets 412, Save reads the
// object's gobak-save metadata to tell its own earlier, successful attempt
// (then it returns nil) from another writer's object (ErrExist). When Save
// returns nil the server has acknowledged the object; its durability is
// the server's (S3 acknowledges only stored objects).
func (s *S3) Save(ctx context.Context, h backend.Handle, data []byte) error {
	key, err := s.prepare(ctx, "save", h)
	if err != nil {
		return err
	}
	return s.putObject(ctx, "save", key, data, true)
}

// Replace stores data as the object of h whether it exists or not, with a
// plain PUT: S3 replaces an object atomically (a reader sees the old or
// the new object, never a mixture or nothing). It is meant for repairing
// and rewriting the config file; repository data files are never
// replaced. Errors are mapped as for Save.
func (s *S3) Replace(ctx context.Context, h backend.Handle, data []byte) error {
	key, err := s.prepare(ctx, "replace", h)
	if err != nil {
		return err
	}
	return s.putObject(ctx, "replace", key, data, false)
}

// putObject uploads data to key, conditionally on its absence if
// ifAbsent, retrying as Save describes.
func (s *S3) putObject(ctx context.Context, op, key string, data []byte, ifAbsent bool) error {
	var rnd [16]byte
	_, _ = crand.Read(rnd[:])
	nonce := hex.EncodeToString(rnd[:])
	opts := minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		UserMetadata:         map[string]string{nonceMeta: nonce},
		SendContentMd5:       true, // the server verifies the body
		DisableContentSha256: true, // Content-MD5 suffices; hash once
		DisableMultipart:     true, // one atomic, conditional PUT
	}
	if ifAbsent {
		opts.SetMatchETagExcept("*") // If-None-Match: *
	}
	for attempt := 1; ; attempt++ {
		_, err := s.put.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), opts)
		if err == nil {
			return nil
		}
		resp := minio.ToErrorResponse(err)
		if ifAbsent && (resp.Code == codePreconditionFailed || resp.StatusCode == http.StatusPreconditionFailed) {
			if attempt > 1 && s.savedBy(ctx, key, nonce) == savedByUs {
				return nil // our earlier attempt made it; its answer was lost
			}
			return fmt.Errorf("%s %s: %w", op, s.url(key), backend.ErrExist)
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%s %s: %w", op, s.url(key), cerr)
		}
		if ifAbsent && resp.StatusCode == 0 {
			// No answer: the server may have refused the PUT early (412)
			// and reset the connection before the answer could be read,
			// or stored it and lost the answer. Look before retrying.
			switch s.savedBy(ctx, key, nonce) {
			case savedByUs:
				return nil
			case savedByOther:
				return fmt.Errorf("%s %s: %w", op, s.url(key), backend.ErrExist)
			}
		}
		if attempt >= s.cfg.MaxAttempts || !retryable(err, resp) {
			return s.mapErr(op, s.url(key), err)
		}
		wait := min(retryCap, retryUnit<<(attempt-1))
		wait = time.Duration(rand.Int64N(int64(wait)) + 1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w", op, s.url(key), ctx.Err())
		case <-t.C:
		}
	}
}

// saveState is what savedBy found.
type saveState int

const (
	notSaved     saveState = iota // missing, or it could not be checked
	savedByUs                     // exists with this Save's nonce
	savedByOther                  // exists with another nonce (or none)
)

// savedBy tells whether the object key exists and carries the Save
// nonce.
func (s *S3) savedBy(ctx context.Context, key, nonce string) saveState {
	info, err := s.c.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	switch {
	case err != nil:
		return notSaved
	case info.UserMetadata[nonceMeta] == nonce:
		return savedByUs
	}
	return savedByOther
}

// retryable reports whether a failed PUT may be tried again: after an
// error answer that retryCodes or the status marks as transient, or when
// no answer arrived at all (a network error, as minio-go retries), unless
// the TLS certificate was refused.
func retryable(err error, resp minio.ErrorResponse) bool {
	if resp.Code != "" {
		return retryCodes[resp.Code]
	}
	switch resp.StatusCode {
	case 0:
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	default:
		return false
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return false // not a transport error (invalid arguments and such)
	}
	var cerr *tls.CertificateVerificationError
	var aerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	return !errors.As(err, &cerr) && !errors.As(err, &aerr) && !errors.As(err, &herr)
}
