package repo

import (
	"context"
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/mem"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// TestDiskFull: when the backend starts failing (a full disk, a dropped
// connection), Flush reports it every time, and a fresh Open sees a
// consistent repository holding everything flushed before.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	for _, failOn := range []backend.FileType{backend.PackFile, backend.IndexFile} {
		t.Run(string(failOn), func(t *testing.T) {
			under := mem.New()
			o := Options{Passphrase: passFunc(testPass), CacheDir: t.TempDir()}
			r, err := Init(ctx, under, InitOptions{Options: o, KDF: crypto.TestKDF, PackSize: MinPackSize})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			saved := map[id.ID][]byte{}
			for i := 0; i < 10; i++ {
				data := randomBlob(rng, 200<<10)
				bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
				if err != nil {
					t.Fatal(err)
				}
				saved[bid] = data
			}
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			r.Close()

			faulty := &mem.Faulty{Backend: under, FailSave: func(h backend.Handle, n int) error {
				if h.Type == failOn {
					return syscall.ENOSPC
				}
				return nil
			}}
			r2, err := Open(ctx, faulty, o)
			if err != nil {
				t.Fatal(err)
			}
			var saveErr error
			for i := 0; i < 20 && saveErr == nil; i++ {
				_, _, saveErr = r2.SaveBlob(ctx, id.DataBlob, randomBlob(rng, 200<<10))
			}
			err1 := r2.Flush(ctx)
			err2 := r2.Flush(ctx)
			if !errors.Is(err1, syscall.ENOSPC) || !errors.Is(err2, syscall.ENOSPC) {
				t.Fatalf("flush errors: %v / %v (save: %v)", err1, err2, saveErr)
			}
			r2.Close()

			r3, err := Open(ctx, under, o)
			if err != nil {
				t.Fatal(err)
			}
			defer r3.Close()
			for bid, data := range saved {
				mustLoad(t, r3, bid, data)
			}
			if err := r3.cache.ForEachBlob(func(e index.Entry) error {
				_, err := r3.LoadBlob(ctx, e.ID, nil)
				return err
			}); err != nil {
				t.Fatalf("indexed blob does not load after failure: %v", err)
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	r, _, _ := newLocalRepo(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := r.SaveBlob(ctx, id.DataBlob, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("save with canceled ctx: %v", err)
	}
	if err := r.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("flush with canceled ctx: %v", err)
	}
}
