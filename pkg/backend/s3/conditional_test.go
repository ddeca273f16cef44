package s3_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/backend/s3"
)

// overwritingServer is a fault-injection stand-in for an S3 server that
// ignores If-None-Match: just enough of the protocol for Create (an empty
// listing, PUT, DELETE), and every PUT overwrites.
type overwritingServer struct {
	mu      sync.Mutex
	objects map[string][]byte
	puts    int
}

func (o *overwritingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch r.Method {
	case http.MethodGet: // ListObjectsV2: nothing there
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
	case http.MethodPut:
		data, _ := io.ReadAll(r.Body)
		o.objects[r.URL.Path] = data
		o.puts++
		sum := md5.Sum(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	case http.MethodDelete:
		delete(o.objects, r.URL.Path)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotImplemented)
	}
}

// TestCreateRefusesServerWithoutConditionalWrites: on a server that would
// let a Save overwrite an object, Create fails (ErrNoConditionalWrites)
// instead of making a repository whose data could be overwritten, and
// leaves its probe object removed.
func TestCreateRefusesServerWithoutConditionalWrites(t *testing.T) {
	fake := &overwritingServer{objects: map[string][]byte{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := s3.Config{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: "bucket", Prefix: "repo",
		AccessKeyID: "k", SecretAccessKey: "s", Region: "us-east-1", MaxAttempts: 1,
	}
	be, err := s3.Create(context.Background(), cfg)
	if err == nil {
		be.Close()
		t.Fatal("Create accepted a server that overwrites objects despite If-None-Match")
	}
	if !errors.Is(err, s3.ErrNoConditionalWrites) || !strings.Contains(err.Error(), "If-None-Match") {
		t.Errorf("Create: %v; want ErrNoConditionalWrites naming If-None-Match", err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.puts != 2 || len(fake.objects) != 0 {
		t.Errorf("%d PUTs, %d objects left; want the probe written twice and removed", fake.puts, len(fake.objects))
	}
}
