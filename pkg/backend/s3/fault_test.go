package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/s3"
	"github.com/gobak/gobak/pkg/backend/s3/s3test"
)

// promptly is how fast a failure must be reported in these tests: what
// they catch is a call that hangs (for minutes, or for ever). It usually
// takes under a second; the margin is for a loaded machine (a 5 s bound
// failed 1 run in 55 at load average 13).
const promptly = 20 * time.Second

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func packHandle(c byte) backend.Handle {
	return backend.Handle{Type: backend.PackFile, Name: strings.Repeat(string(c), 64)}
}

// openVia creates the repository directly and opens it again through
// endpoint (a proxy).
func openVia(t *testing.T, srv *s3test.Server, endpoint, bucket string) *s3.S3 {
	t.Helper()
	be, err := s3.Create(context.Background(), srv.Config(bucket, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	be.Close()
	cfg := srv.Config(bucket, "repo")
	cfg.Endpoint = endpoint
	be, err = s3.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

func TestSaveNeverOverwrites(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ctx := context.Background()
	be := newRepo(t, srv, "noover")
	defer be.Close()

	for _, h := range []backend.Handle{packHandle('a'), {Type: backend.ConfigFile}, {Type: backend.LockFile, Name: "l0"}} {
		first := randomBytes(t, 1000)
		if err := be.Save(ctx, h, first); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{0, 999, 1000, 5000} {
			if err := be.Save(ctx, h, randomBytes(t, size)); !errors.Is(err, backend.ErrExist) {
				t.Errorf("second Save(%v) of %d bytes: %v, want ErrExist", h, size, err)
			}
		}
		if got, err := backend.ReadAll(ctx, be, h); err != nil || !bytes.Equal(got, first) {
			t.Errorf("%v changed: %d bytes, %v", h, len(got), err)
		}
	}

	// Concurrent Saves of big, different contents: exactly one wins
	// and its data is stored whole.
	for round := range 3 {
		h := packHandle(byte('b' + round))
		const n = 4
		contents := make([][]byte, n)
		for i := range contents {
			contents[i] = randomBytes(t, 4<<20)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = be.Save(ctx, h, contents[i]) })
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: Saves %d and %d both succeeded", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, backend.ErrExist):
				t.Errorf("round %d: Save %d: %v, want ErrExist", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no Save succeeded: %v", round, errs)
		}
		if got, err := backend.ReadAll(ctx, be, h); err != nil || !bytes.Equal(got, contents[winner]) {
			t.Errorf("round %d: stored %d bytes (%v), not the winner's", round, len(got), err)
		}
	}
}

// TestSaveLostReply: the server stores the object but the answer is lost;
// the retried conditional PUT gets 412 and Save must see that the object
// is its own.
func TestSaveLostReply(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	p := startProxy(t, srv.Endpoint, proxyConfig{})
	be := openVia(t, srv, p.Addr, "lost")
	ctx := context.Background()

	h := packHandle('c')
	data := randomBytes(t, 100<<10)
	p.dropReplies.Store(1)
	if err := be.Save(ctx, h, data); err != nil {
		t.Fatalf("Save whose first reply was lost: %v", err)
	}
	if p.dropReplies.Load() > 0 {
		t.Fatal("the proxy dropped no reply")
	}
	if got, err := backend.ReadAll(ctx, be, h); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, %v", len(got), err)
	}
	// Another writer's object is still refused after a lost reply.
	p.dropReplies.Store(1)
	if err := be.Save(ctx, h, randomBytes(t, 10)); !errors.Is(err, backend.ErrExist) {
		t.Fatalf("Save of an existing file after a lost reply: %v, want ErrExist", err)
	}
}

// TestSaveCorrupted: a byte flipped on the way makes the server refuse
// the upload (Content-MD5), and nothing is stored.
func TestSaveCorrupted(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	p := startProxy(t, srv.Endpoint, proxyConfig{corrupt: true, corruptAt: 200 << 10})
	be := openVia(t, srv, p.Addr, "corrupt")
	ctx := context.Background()
	h := packHandle('d')
	err := be.Save(ctx, h, randomBytes(t, 1<<20))
	if err == nil {
		t.Fatal("Save of a corrupted transfer succeeded")
	}
	t.Logf("corrupted Save: %v", err)
	if _, err := be.Stat(ctx, h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after a corrupted Save: %v, want ErrNotExist", err)
	}
}

func TestServerKilledMidSave(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	p := startProxy(t, srv.Endpoint, proxyConfig{delay: 2 * time.Millisecond}) // ~16 MB/s
	be := openVia(t, srv, p.Addr, "killsave")
	h := packHandle('e')

	done := make(chan error, 1)
	go func() { done <- be.Save(context.Background(), h, randomBytes(t, 16<<20)) }()
	waitFor(t, "1 MiB uploaded", func() bool { return p.up.Load() > 1<<20 })
	srv.Kill()
	killed := time.Now()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Save succeeded although the server was killed")
		}
		t.Logf("Save after %v: %v", time.Since(killed).Round(time.Millisecond), err)
	case <-time.After(promptly):
		t.Fatalf("Save did not return within %v of the server's death", promptly)
	}
	srv.Restart()
	if _, err := be.Stat(context.Background(), h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after the interrupted Save: %v, want ErrNotExist", err)
	}
	if got := listNames(t, be, backend.PackFile); len(got) != 0 {
		t.Errorf("List after the interrupted Save: %v", got)
	}
}

func TestServerKilledMidLoad(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	p := startProxy(t, srv.Endpoint, proxyConfig{delay: 2 * time.Millisecond})
	be := openVia(t, srv, p.Addr, "killload")
	ctx := context.Background()
	h := packHandle('f')
	data := randomBytes(t, 16<<20)
	direct, err := s3.Open(ctx, srv.Config("killload", "repo"))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if err := direct.Save(ctx, h, data); err != nil {
		t.Fatal(err)
	}

	rd, err := be.Load(ctx, h, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	head := make([]byte, 1<<20)
	if _, err := io.ReadFull(rd, head); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(head, data[:len(head)]) {
		t.Fatal("first MiB differs")
	}
	srv.Kill()
	killed := time.Now()
	done := make(chan error, 1)
	go func() {
		rest, err := io.ReadAll(rd)
		if err == nil && len(head)+len(rest) != len(data) {
			err = io.ErrUnexpectedEOF
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			// The proxy may have buffered everything before the kill.
			t.Fatal("read the whole object although the server was killed")
		}
		t.Logf("read after %v: %v", time.Since(killed).Round(time.Millisecond), err)
	case <-time.After(promptly):
		t.Fatalf("Read did not fail within %v of the server's death", promptly)
	}
	// With the server dead, calls fail promptly too.
	start := time.Now()
	if _, err := be.Stat(ctx, h); err == nil || errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat with the server dead: %v", err)
	}
	if d := time.Since(start); d > promptly {
		t.Errorf("Stat took %v with the server dead", d)
	}
}

func TestDeadServer(t *testing.T) {
	t.Parallel()
	// Nothing listens: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	// Something accepts connections but never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	accepted := make(chan struct{})
	t.Cleanup(func() {
		silent.Close()
		<-accepted
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		defer close(accepted)
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read by the cleanup after accepted closes
		}
	}()

	for _, tt := range []struct {
		name     string
		endpoint string
		attempts int
		limit    time.Duration
		want     string
	}{
		// (Usually 1-2.5 s; the margins are for a loaded machine.)
		{"refused/default", refused, 0, 30 * time.Second, "connection refused"},
		{"silent", silent.Addr().String(), 2, 15 * time.Second, "no progress"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := s3.Config{
				Endpoint: tt.endpoint, Bucket: "dead", AccessKeyID: "a", SecretAccessKey: "b",
				Region: "us-east-1", IOTimeout: time.Second, MaxAttempts: tt.attempts,
			}
			start := time.Now()
			_, err := s3.Open(context.Background(), cfg)
			d := time.Since(start)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			t.Logf("Open failed after %v: %v", d.Round(time.Millisecond), err)
			if d > tt.limit {
				t.Errorf("Open took %v, want at most %v", d, tt.limit)
			}
			if !strings.Contains(err.Error(), tt.endpoint) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not name the endpoint or say %q: %v", tt.want, err)
			}
		})
	}
}

func TestCredentialsAndBucket(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ctx := context.Background()
	be := newRepo(t, srv, "creds")
	defer be.Close()

	bad := srv.Config("creds", be.Prefix())
	bad.SecretAccessKey = "wrong-secret-value"
	_, err := s3.Open(ctx, bad)
	if !errors.Is(err, s3.ErrAccessDenied) {
		t.Fatalf("Open with a wrong secret: %v, want ErrAccessDenied", err)
	}
	if !strings.Contains(err.Error(), srv.AccessKey) || strings.Contains(err.Error(), bad.SecretAccessKey) {
		t.Errorf("error should name the access key ID and not the secret: %v", err)
	}
	unknown := srv.Config("creds", be.Prefix())
	unknown.AccessKeyID = "nosuchuser"
	if _, err := s3.Create(ctx, unknown); !errors.Is(err, s3.ErrAccessDenied) {
		t.Errorf("Create with an unknown access key: %v, want ErrAccessDenied", err)
	}
	anon := srv.Config("creds", be.Prefix())
	anon.AccessKeyID, anon.SecretAccessKey = "", ""
	if _, err := s3.Open(ctx, anon); !errors.Is(err, s3.ErrAccessDenied) {
		t.Errorf("anonymous Open: %v, want ErrAccessDenied", err)
	}

	_, err = s3.Open(ctx, srv.Config("nosuchbucket", "repo"))
	if !errors.Is(err, s3.ErrBucketNotExist) || !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Open of a missing bucket: %v, want ErrBucketNotExist and ErrNotExist", err)
	}
	if err != nil && !strings.Contains(err.Error(), "nosuchbucket") {
		t.Errorf("error does not name the bucket: %v", err)
	}

	for _, cfg := range []s3.Config{
		{Bucket: "abc"},
		{Endpoint: "http://x:1", Bucket: "abc"},
		{Endpoint: "x:1"},
		{Endpoint: "x:1", Bucket: "ab"},
		{Endpoint: "x:1", Bucket: "abc", Prefix: "a//b"},
		{Endpoint: "x:1", Bucket: "abc", Prefix: "a/../b"},
		{Endpoint: "x:1", Bucket: "abc", AccessKeyID: "only"},
	} {
		if _, err := s3.Open(ctx, cfg); !errors.Is(err, s3.ErrConfig) {
			t.Errorf("Open(%+v): %v, want ErrConfig", cfg, err)
		}
	}
}

func TestCanceledMidSave(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	p := startProxy(t, srv.Endpoint, proxyConfig{delay: 2 * time.Millisecond})
	be := openVia(t, srv, p.Addr, "cancel")
	h := packHandle('9')

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- be.Save(ctx, h, randomBytes(t, 16<<20)) }()
	waitFor(t, "1 MiB uploaded", func() bool { return p.up.Load() > 1<<20 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled Save: %v, want context.Canceled", err)
		}
	case <-time.After(promptly):
		t.Fatal("Save ignored the canceled context")
	}
	if _, err := be.Stat(context.Background(), h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after a canceled Save: %v, want ErrNotExist", err)
	}

	// A Load's reader outlives its context, as the contract says.
	data := randomBytes(t, 300<<10)
	if err := be.Save(context.Background(), h, data); err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(context.Background())
	rd, err := be.Load(lctx, h, 1000, 200<<10)
	if err != nil {
		t.Fatal(err)
	}
	lcancel()
	got, err := io.ReadAll(rd)
	rd.Close()
	if err != nil || !bytes.Equal(got, data[1000:1000+200<<10]) {
		t.Errorf("read after canceling Load's context: %d bytes, %v", len(got), err)
	}
}
