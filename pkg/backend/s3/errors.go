package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/gobak/gobak/pkg/backend"
)

// S3 error codes this package reacts to.
const (
	codeNoSuchKey          = "NoSuchKey"
	codeNoSuchBucket       = "NoSuchBucket"
	codePreconditionFailed = "PreconditionFailed"
	codeInvalidRange       = "InvalidRange"
)

// accessCodes are the error codes that mean the credentials were refused
// or lack a permission.
var accessCodes = map[string]bool{
	"AccessDenied":          true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"ExpiredToken":          true,
	"InvalidToken":          true,
	"TokenRefreshRequired":  true,
	"AllAccessDisabled":     true,
	"XAdminUserNotFound":    true, // versitygw: unknown access key ID
}

// mapErr wraps err for op on what (a location or object URL): a missing
// object becomes backend.ErrNotExist, a missing bucket ErrBucketNotExist
// (and backend.ErrNotExist), refused credentials ErrAccessDenied. Context
// errors stay visible to errors.Is.
func (s *S3) mapErr(op, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", op, what, err)
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == codeNoSuchKey:
		return fmt.Errorf("%s %s: %w", op, what, backend.ErrNotExist)
	case resp.Code == codeNoSuchBucket:
		return fmt.Errorf("%s %s: bucket %q on %s: %w: %w", op, what, s.cfg.Bucket, s.cfg.Endpoint, ErrBucketNotExist, backend.ErrNotExist)
	case accessCodes[resp.Code] || resp.StatusCode == http.StatusForbidden:
		who := "anonymous access"
		if s.cfg.AccessKeyID != "" {
			who = fmt.Sprintf("access key ID %q", s.cfg.AccessKeyID)
		}
		return fmt.Errorf("%s %s: %w with %s (check the credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): %s",
			op, what, ErrAccessDenied, who, describe(resp, err))
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("%s %s: no progress from %s within %v: %w", op, what, s.cfg.Endpoint, s.cfg.IOTimeout, err)
	}
	return fmt.Errorf("%s %s: %w", op, what, err)
}

// describe returns the server's code and message of resp, or err's text.
func describe(resp minio.ErrorResponse, err error) string {
	if resp.Code != "" {
		return resp.Code + ": " + resp.Message
	}
	return err.Error()
}
