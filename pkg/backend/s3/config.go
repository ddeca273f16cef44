package s3

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Defaults for the zero values of Config fields.
const (
	// DefaultConnectTimeout bounds dialing and the TLS handshake.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultIOTimeout is how long a connection may make no progress
	// (nothing sent and nothing received) before it is dropped.
	DefaultIOTimeout = 60 * time.Second
	// DefaultMaxAttempts is how many times a request is tried before its
	// error is returned.
	DefaultMaxAttempts = 5
)

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrConfig means Config is incomplete or inconsistent.
	ErrConfig = errors.New("invalid s3 configuration")
	// ErrBucketNotExist means the bucket does not exist. Errors wrapping
	// it also wrap backend.ErrNotExist.
	ErrBucketNotExist = errors.New("bucket does not exist")
	// ErrAccessDenied means the server refused the credentials or their
	// permissions (AccessDenied, InvalidAccessKeyId,
	// SignatureDoesNotMatch, expired tokens).
	ErrAccessDenied = errors.New("access denied")
	// ErrNoConditionalWrites means the server ignores If-None-Match, so
	// it could overwrite an object: Create refuses such a server.
	ErrNoConditionalWrites = errors.New("S3 server without conditional writes")
)

// Config says where a repository is and how to reach it. The package reads
// nothing else: no environment variables, no ~/.aws files, no instance
// metadata and no HTTP proxy settings. The caller (the CLI) fills the
// credentials, typically from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN and AWS_DEFAULT_REGION.
type Config struct {
	// Endpoint is the server's host or host:port, without a scheme, for
	// example "s3.amazonaws.com" or "127.0.0.1:7070". Required.
	Endpoint string
	// Secure selects HTTPS (true) or plain HTTP (false).
	Secure bool
	// Bucket is the bucket that holds the repository. Required.
	Bucket string
	// Prefix is the "directory" of the repository inside the bucket:
	// its files are stored as the objects Prefix/config,
	// Prefix/data/ab/ab..., and so on, with the relative paths of package
	// local. Leading and trailing slashes are ignored; "" puts the
	// repository at the root of the bucket. It must not contain empty,
	// "." or ".." segments.
	Prefix string

	// AccessKeyID and SecretAccessKey are the credentials; both empty
	// means anonymous requests. SessionToken is needed for temporary
	// credentials only.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Region is the bucket's region, used for signing and for creating
	// the bucket. "" means ask the server (one extra request per client)
	// and create buckets in the server's default region.
	Region string

	// ConnectTimeout bounds dialing and the TLS handshake; 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// IOTimeout is how long a connection may make no progress, in either
	// direction, before the request on it fails (and may be retried):
	// it bounds a stalled server or a dead network path, also while a
	// response body is being read; 0 means DefaultIOTimeout. It must
	// exceed the time the server needs between receiving the last byte
	// of an upload and answering.
	IOTimeout time.Duration
	// MaxAttempts is how many times a request that failed with a
	// network error, a 5xx status or a throttling error is tried in all,
	// with exponential backoff between attempts (200 ms doubling, at
	// most 1 s, randomized); 0 means DefaultMaxAttempts.
	MaxAttempts int
}

// withDefaults returns a copy of c with defaults filled in and Prefix
// cleaned, or an error wrapping ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.IOTimeout <= 0 {
		c.IOTimeout = DefaultIOTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	switch {
	case c.Endpoint == "":
		return c, fmt.Errorf("%w: no endpoint", ErrConfig)
	case strings.Contains(c.Endpoint, "/"):
		return c, fmt.Errorf("%w: endpoint %q must be host[:port], without scheme or path", ErrConfig, c.Endpoint)
	case c.Bucket == "":
		return c, fmt.Errorf("%w: no bucket", ErrConfig)
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		return c, fmt.Errorf("%w: access key ID and secret access key must be given together", ErrConfig)
	}
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil && strings.Count(c.Endpoint, ":") > 0 {
		return c, fmt.Errorf("%w: endpoint %q: %v", ErrConfig, c.Endpoint, err)
	}
	if err := s3utils.CheckValidBucketName(c.Bucket); err != nil {
		return c, fmt.Errorf("%w: bucket %q: %v", ErrConfig, c.Bucket, err)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.Prefix != "" {
		for _, seg := range strings.Split(c.Prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return c, fmt.Errorf("%w: prefix %q has an empty, \".\" or \"..\" segment", ErrConfig, c.Prefix)
			}
		}
	}
	return c, nil
}

// location returns "s3://endpoint/bucket/prefix" (no credentials).
func (c *Config) location() string {
	loc := "s3://" + c.Endpoint + "/" + c.Bucket
	if p := strings.Trim(c.Prefix, "/"); p != "" {
		loc += "/" + p
	}
	return loc
}
