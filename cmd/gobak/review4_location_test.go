package main

import (
	"bytes"
	"strings"
	"testing"
)

// Credentials written into a URL are refused, but the error repeats the
// whole URL, secret included, on stderr (and in CI logs).
func TestReview4URLSecretInError(t *testing.T) {
	for _, s := range []string{
		"s3://AKIAEXAMPLE:topsecretkey@host/bucket/prefix",
		"sftp://user:topsecretkey@host/repo",
	} {
		_, err := parseLocation(s)
		if err == nil {
			t.Fatalf("parseLocation(%q) accepted credentials", s)
		}
		if strings.Contains(err.Error(), "topsecretkey") {
			t.Errorf("parseLocation error reveals the secret: %v", err)
		}
	}
}

// "/.." in an s3 URL is resolved by path.Clean, so the repository ends up
// in another bucket than the one the URL names.
func TestReview4S3DotDotChangesBucket(t *testing.T) {
	loc, err := parseLocation("s3://s3.example.com/mybucket/../otherbucket/repo")
	if err == nil && loc.Bucket != "mybucket" {
		t.Errorf("s3://s3.example.com/mybucket/../otherbucket/repo -> bucket %q prefix %q (want an error, or bucket \"mybucket\")", loc.Bucket, loc.Prefix)
	}
	loc, err = parseLocation("s3://s3.example.com/mybucket/a//b")
	if err == nil && loc.Prefix != "a//b" {
		t.Logf("double slash: prefix %q", loc.Prefix)
	}
}

// An IPv6 endpoint without a port is rejected by s3.Config as invalid.
func TestReview4S3IPv6NoPort(t *testing.T) {
	loc, err := parseLocation("s3+http://[::1]/bucket/repo")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, mapEnv(map[string]string{
		"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}))
	cfg, err := a.s3Config(loc)
	if err != nil {
		t.Fatal(err)
	}
	be, err := a.storage(t.Context(), loc, false)
	if err != nil && strings.Contains(err.Error(), "invalid s3 configuration") {
		t.Errorf("s3+http://[::1]/bucket/repo: endpoint %q: %v", cfg.Endpoint, err)
	}
	if err == nil {
		be.Close()
	}
}
