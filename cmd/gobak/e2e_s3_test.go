package main

import (
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/backend/s3/s3test"
)

// s3CLI returns a cli with srv's credentials in the AWS_* variables and
// the s3+http:// URL of prefix in bucket, and the directory where the
// server keeps that prefix's files.
func s3CLI(t *testing.T, srv *s3test.Server, bucket, prefix string) (*cli, string, string) {
	c := newCLI(t)
	c.vars["AWS_ACCESS_KEY_ID"] = srv.AccessKey
	c.vars["AWS_SECRET_ACCESS_KEY"] = srv.SecretKey
	return c, "s3+http://" + srv.Endpoint + "/" + bucket + "/" + prefix, filepath.Join(srv.Dir, bucket, prefix)
}

// TestS3Repository runs a borg-style session on a repository in a bucket
// of a real S3 server (versitygw), and checks that the files the server
// keeps are the same repository when opened as a local path.
func TestS3Repository(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	c, url, dir := s3CLI(t, srv, "backups", "hosts/web1")
	checkRemoteSession(t, c, url, dir, url, "exists")

	// Wrong credentials, a missing repository, a missing bucket.
	bad := c.with(t)
	bad.vars = map[string]string{}
	for k, v := range c.vars {
		bad.vars[k] = v
	}
	bad.vars["AWS_SECRET_ACCESS_KEY"] = "wrong"
	bad.fails(withPass, []string{url, "access denied"}, "list", url)
	c.fails(withPass, []string{"not a gobak repository", "no config file"}, "list", url+"-missing")
	c.fails(withPass, []string{"bucket"}, "list", "s3+http://"+srv.Endpoint+"/nobucket/x")
}

// TestS3ServerLost kills the S3 server under a running create (see
// checkLostDuringCreate) and starts it again.
func TestS3ServerLost(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	c, url, dir := s3CLI(t, srv, "backups", "lost")
	checkLostDuringCreate(t, c, url, dir, srv.Kill, srv.Restart)
}
