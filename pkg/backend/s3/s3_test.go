package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/backendtest"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/backend/s3"
	"github.com/gobak/gobak/pkg/backend/s3/s3test"
)

var repoSeq atomic.Int64

// anchored holds a *sync.Once per server and bucket for anchor.
var anchored sync.Map

// anchor keeps an object in bucket's "repos/" on srv for good. versitygw's
// posix backend removes a directory when its last object is deleted, and
// a PUT racing with that removal of a shared parent directory fails with
// "Existing Object is a directory" (seen in about 1 of 13 runs, when one
// repository's Create deleted its probe object while another's first PUT
// went on). With an object that stays, the shared parent is never empty.
func anchor(t testing.TB, srv *s3test.Server, bucket string) {
	t.Helper()
	once, _ := anchored.LoadOrStore(srv.Endpoint+"/"+bucket, new(sync.Once))
	var err error
	once.(*sync.Once).Do(func() {
		var be *s3.S3
		if be, err = s3.Create(context.Background(), srv.Config(bucket, "repos/anchor")); err != nil {
			return
		}
		defer be.Close()
		err = be.Save(context.Background(), backend.Handle{Type: backend.ConfigFile}, []byte("anchor"))
	})
	if err != nil {
		t.Fatalf("anchor: %v", err)
	}
}

// newRepo creates a repository with a fresh prefix in bucket on srv.
func newRepo(t testing.TB, srv *s3test.Server, bucket string) *s3.S3 {
	t.Helper()
	anchor(t, srv, bucket)
	prefix := fmt.Sprintf("repos/r%d", repoSeq.Add(1))
	be, err := s3.Create(context.Background(), srv.Config(bucket, prefix))
	if err != nil {
		t.Fatalf("Create(%s/%s): %v", bucket, prefix, err)
	}
	return be
}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newRepo(t, srv, "conformance") })
}

func TestConformanceBucketRoot(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	var n atomic.Int64
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		cfg := srv.Config(fmt.Sprintf("root%d", n.Add(1)), "")
		be, err := s3.Create(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return be
	})
}

func BenchmarkS3(b *testing.B) {
	srv := s3test.Start(b)
	backendtest.Bench(b, func(b *testing.B) backend.Backend { return newRepo(b, srv, "bench") })
}

// TestLayoutMatchesLocal saves files of every type through S3 and opens
// the posix backend's directory of the prefix with package local.
func TestLayoutMatchesLocal(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ctx := context.Background()
	cfg := srv.Config("layout", "/some/repo/")
	be, err := s3.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if want := "s3://" + srv.Endpoint + "/layout/some/repo"; be.Location() != want {
		t.Errorf("Location() = %q, want %q", be.Location(), want)
	}
	if be.Bucket() != "layout" || be.Prefix() != "some/repo" {
		t.Errorf("Bucket, Prefix = %q, %q", be.Bucket(), be.Prefix())
	}

	contents := make(map[backend.Handle][]byte)
	for i, ft := range backend.FileTypes() {
		for j := range 3 {
			h := backend.Handle{Type: ft, Name: fmt.Sprintf("%02x%062x", i*16+j, j)}
			if ft == backend.ConfigFile {
				if j > 0 {
					break
				}
				h.Name = ""
			}
			contents[h] = bytes.Repeat([]byte{byte(i), byte(j)}, 100*i+j)
			if err := be.Save(ctx, h, contents[h]); err != nil {
				t.Fatalf("Save(%v): %v", h, err)
			}
		}
	}

	lb, err := local.Open(filepath.Join(srv.Dir, "layout", "some", "repo"))
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range contents {
		got, err := backend.ReadAll(ctx, lb, h)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("local ReadAll(%v) = %d bytes, %v; want %d bytes", h, len(got), err, len(want))
		}
	}
	for _, ft := range backend.FileTypes() {
		fromLocal, fromS3 := listNames(t, lb, ft), listNames(t, be, ft)
		if fmt.Sprint(fromLocal) != fmt.Sprint(fromS3) {
			t.Errorf("List(%s): local %v, s3 %v", ft, fromLocal, fromS3)
		}
		n := 3
		if ft == backend.ConfigFile {
			n = 1
		}
		if len(fromS3) != n {
			t.Errorf("List(%s) = %v, want %d files", ft, fromS3, n)
		}
	}
}

// listNames returns the sorted "name:size" entries of type ft.
func listNames(t *testing.T, be backend.Backend, ft backend.FileType) map[string]int64 {
	t.Helper()
	got := make(map[string]int64)
	err := be.List(context.Background(), ft, func(fi backend.FileInfo) error {
		got[fi.Name] = fi.Size
		return nil
	})
	if err != nil {
		t.Fatalf("List(%s): %v", ft, err)
	}
	return got
}

func TestCreateExisting(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ctx := context.Background()
	be, err := s3.Create(ctx, srv.Config("bkt", "repo"))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	// An empty prefix in an existing bucket is fine, also twice.
	for range 2 {
		other, err := s3.Create(ctx, srv.Config("bkt", "repo"))
		if err != nil {
			t.Fatalf("Create of an empty prefix: %v", err)
		}
		other.Close()
	}
	if err := be.Save(ctx, backend.Handle{Type: backend.KeyFile, Name: "k1"}, []byte("key")); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []s3.Config{srv.Config("bkt", "repo"), srv.Config("bkt", "")} {
		_, err = s3.Create(ctx, cfg)
		if !errors.Is(err, backend.ErrExist) {
			t.Errorf("Create(%q) of a non-empty prefix: %v, want ErrExist", cfg.Prefix, err)
		}
	}
	// A sibling prefix sharing the string prefix is independent.
	sib, err := s3.Create(ctx, srv.Config("bkt", "rep"))
	if err != nil {
		t.Fatalf("Create(rep): %v", err)
	}
	sib.Close()
	// Open sees the repository.
	op, err := s3.Open(ctx, srv.Config("bkt", "repo"))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	if got := listNames(t, op, backend.KeyFile); len(got) != 1 || got["k1"] != 3 {
		t.Errorf("List after Open = %v", got)
	}
}

func TestReplace(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ctx := context.Background()
	be := newRepo(t, srv, "replace")
	defer be.Close()
	h := backend.Handle{Type: backend.ConfigFile}
	if err := be.Replace(ctx, h, []byte("first")); err != nil {
		t.Fatalf("Replace of a missing file: %v", err)
	}
	if err := be.Replace(ctx, h, []byte("second, longer")); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	got, err := backend.ReadAll(ctx, be, h)
	if err != nil || string(got) != "second, longer" {
		t.Errorf("after Replace: %q, %v", got, err)
	}
	if err := be.Save(ctx, h, []byte("third")); !errors.Is(err, backend.ErrExist) {
		t.Errorf("Save after Replace: %v, want ErrExist", err)
	}
	err = be.Replace(ctx, backend.Handle{Type: backend.ConfigFile, Name: "x"}, nil)
	if !errors.Is(err, backend.ErrInvalidHandle) {
		t.Errorf("Replace of an invalid handle: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := be.Replace(cctx, h, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Errorf("Replace with a canceled context: %v", err)
	}
	got, _ = backend.ReadAll(ctx, be, h)
	if string(got) != "second, longer" {
		t.Errorf("content changed to %q", got)
	}

	// A closed backend refuses work.
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Stat(ctx, h); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Stat after Close: %v", err)
	}
	if err := be.Replace(ctx, h, []byte("x")); err == nil {
		t.Error("Replace after Close succeeded")
	}
}
