// Package s3 implements backend.Backend on a bucket of an S3-compatible
// object store (AWS S3, MinIO, Versity S3 Gateway, Ceph RGW, ...), using
// github.com/minio/minio-go/v7.
//
// # Layout
//
// A repository is a key prefix in a bucket. Each file is one object whose
// key is the prefix, a slash, and the file's path relative to a local
// repository (backend.Handle.String): Prefix/config, Prefix/keys/<name>,
// Prefix/data/ab/ab<rest>, Prefix/index/<name>, and so on. A bucket
// mirrored to disk (for example by versitygw's posix backend, or by
// "aws s3 sync") is therefore a repository package local can open, and
// the other way round. S3 has no directories, so Create writes nothing;
// it only makes the bucket if needed and checks that the prefix is
// empty.
//
// # Saving
//
// Save is one PUT with "If-None-Match: *" (S3 conditional writes, AWS
// since 2024, MinIO, versitygw), so an existing object is never
// overwritten, also under concurrent Saves: exactly one wins and the
// others get backend.ErrExist. The body carries Content-MD5, so a
// transfer corrupted on the way is refused by the server. Uploads are
// never split into parts: a single PUT is created atomically. A server
// that ignores If-None-Match would silently overwrite; gobak requires
// one that implements it. Replace, for the config file only, is a plain
// PUT, which S3 applies atomically.
//
// # Timeouts and retries
//
// Requests that fail without an answer, or with a 5xx or throttling
// answer, are retried up to Config.MaxAttempts times in all, with
// randomized exponential backoff of at most one second between attempts.
// A connection that makes no progress for Config.IOTimeout fails; dialing
// is bounded by Config.ConnectTimeout. A dead server (connection refused)
// therefore fails a call within about MaxAttempts-1 seconds, a silent one
// within about MaxAttempts*(ConnectTimeout or IOTimeout) plus the
// backoff. Every call honours its context.
//
// # Credentials
//
// The package reads no environment variables or files: the caller fills
// Config (the CLI takes AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN and AWS_DEFAULT_REGION). Refused credentials give
// errors wrapping ErrAccessDenied that name the access key ID (never the
// secret); a missing bucket, errors wrapping ErrBucketNotExist.
package s3
