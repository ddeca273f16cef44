package main

import (
	"os"
	"path/filepath"
	"strings"
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
	src := c.path("src")
	writeFiles(t, src, map[string]string{
		"etc/app.conf": "setting=1\n",
		"data/big.bin": string(randomBytes(5<<20, 12)),
		"data/empty":   "",
	})

	c.ok(withPass, "init", url)
	c.fails(withPass, []string{url, "exists"}, "init", url)
	c.ok(withPass, "create", url+"::one", src)
	writeFiles(t, src, map[string]string{"etc/app.conf": "setting=2\n"})
	c.ok(withPass, "create", url+"::two", src)
	if got := c.ok(withPass, "list", "--short", url).stdout; got != "one\ntwo\n" {
		t.Errorf("list: %q", got)
	}
	dest := c.path("dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "extract", "--destination", dest, url+"::two")
	compareTrees(t, src, filepath.Join(dest, strings.TrimPrefix(src, "/")))
	c.ok(withPass, "check", "--verify-data", url)

	// What the server stored is the same repository as a local path (S3
	// has no empty directories: those of the layout are made first, as
	// for a copy of the bucket).
	for _, d := range []string{"locks", "index", "keys", "archives", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.ok(withPass, "list", "--short", dir).stdout; got != "one\ntwo\n" {
		t.Errorf("list of the server's files as a local path: %q", got)
	}
	c.ok(withPass, "check", "--verify-data", dir)

	c.ok(withPass, "delete", url+"::one")
	c.ok(withPass, "compact", url)
	c.ok(withPass, "check", "--verify-data", url)

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
