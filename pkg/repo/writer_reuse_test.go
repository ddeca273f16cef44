package repo

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/mem"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
)

// gatedIndex is a backend whose index file saves wait until release is
// closed; reached is signalled (without blocking) each time one starts
// waiting.
type gatedIndex struct {
	backend.Backend
	reached chan struct{}
	release chan struct{}
}

func (g *gatedIndex) Save(ctx context.Context, h backend.Handle, data []byte) error {
	if h.Type == backend.IndexFile {
		select {
		case g.reached <- struct{}{}:
		default:
		}
		<-g.release
	}
	return g.Backend.Save(ctx, h, data)
}

// TestPackBufferReusedInFlight: an uploader gives a pack's buffer back to
// the free list before it ends the pack's flight (it still writes an index
// file). When a saver refills that buffer and takes it as the next pack in
// the meantime, the first pack's flight must still end, under its own
// number: it once ended the second pack's instead, and the next Flush then
// waited forever for the first (seen as a hung gobak create in CI).
//
// Not parallel: the free lists are shared by every Repo of the process,
// and the test needs the first pack's buffer to be the one reused.
func TestPackBufferReusedInFlight(t *testing.T) {
	ctx := context.Background()
	g := &gatedIndex{Backend: mem.New(), reached: make(chan struct{}, 1), release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(g.release)
		}
	}()
	o := Options{Passphrase: passFunc(testPass), CacheDir: t.TempDir(), Uploaders: 1, IndexMaxPacks: 1}
	r, err := Init(ctx, g, InitOptions{Options: o, KDF: crypto.TestKDF, PackSize: MinPackSize, Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for drained := false; !drained; { // start from an empty free list
		select {
		case <-freePacks[id.DataBlob]:
		default:
			drained = true
		}
	}

	rng := rand.New(rand.NewPCG(7, 8))
	a, b := randomBlob(rng, MinPackSize), randomBlob(rng, MinPackSize)
	// a fills a pack on its own: the uploader stores it, frees its
	// buffer, and waits in the index file save.
	aID, _, err := r.SaveBlob(ctx, id.DataBlob, a)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the uploader never wrote an index file")
	}
	// b fills the freed buffer and is taken as pack 2; its send waits for
	// the (busy) uploader.
	saved := make(chan error, 1)
	var bID id.ID
	go func() {
		var err error
		bID, _, err = r.SaveBlob(ctx, id.DataBlob, b)
		saved <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.w.mu.Lock()
		seq := r.w.seq
		r.w.mu.Unlock()
		if seq >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second pack was never taken")
		}
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	released = true
	if err := <-saved; err != nil {
		t.Fatal(err)
	}

	flushed := make(chan error, 1)
	go func() { flushed <- r.Flush(ctx) }()
	select {
	case err := <-flushed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		r.w.mu.Lock()
		inflight := len(r.w.inflight)
		r.w.mu.Unlock()
		t.Fatalf("Flush hung with %d packs still in flight", inflight)
	}
	for bid, want := range map[id.ID][]byte{aID: a, bID: b} {
		got, err := r.LoadBlob(ctx, bid, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("blob %s after Flush: %v", bid.Short(), err)
		}
	}
}
