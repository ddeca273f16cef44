package repo

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// TestRebuildKeepsDamagedTrailerEntries: when only a pack's trailer is
// damaged, its blobs are intact and the old index file is the only record
// of where they are; RebuildIndex must carry those entries over.
func TestRebuildKeepsDamagedTrailerEntries(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.PackSize = MinPackSize })
	rng := rand.New(rand.NewPCG(5, 6))
	blobs := map[id.ID][]byte{}
	for i := 0; i < 12; i++ {
		data := randomBlob(rng, 200<<10)
		bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		blobs[bid] = data
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var victim id.ID
	for b := range blobs {
		loc, _, _ := r.Lookup(b)
		victim = loc.Pack
		break
	}
	r.Close()
	path := filepath.Join(dir, "data", victim.String()[:2], victim.String())
	data, _ := os.ReadFile(path)
	data[len(data)-6] ^= 0xff // inside the sealed trailer
	os.Chmod(path, 0o600)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r2 := reopen(t, dir, o)
	if _, _, err := r2.PackBlobs(ctx, victim); !errors.Is(err, ErrDamaged) {
		t.Fatalf("damaged trailer not detected: %v", err)
	}
	res, err := r2.RebuildIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Damaged) != 1 || len(res.Carried) != 1 || res.Carried[0] != victim {
		t.Fatalf("rebuild result %+v", res)
	}
	r2.Close()
	r3 := reopen(t, dir, o)
	for b, want := range blobs {
		mustLoad(t, r3, b, want)
	}
}

// TestBlobLargerThanPack: a blob larger than the pack size gets a pack of
// its own.
func TestBlobLargerThanPack(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.PackSize = MinPackSize })
	data := randomBlob(rand.New(rand.NewPCG(1, 1)), 3*MinPackSize)
	bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()
	mustLoad(t, reopen(t, dir, o), bid, data)
}

// TestRebuildTwiceNone: with encryption "none" a second rebuild writes
// index files identical to the first one's; they must stay in force.
func TestRebuildTwiceNone(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.Encryption = "none"; o.Passphrase = nil; o.PackSize = MinPackSize })
	rng := rand.New(rand.NewPCG(8, 9))
	blobs := map[id.ID][]byte{}
	for i := 0; i < 70000; i++ { // more than one index file's worth of blobs
		data := []byte{byte(i), byte(i >> 8), byte(i >> 16), byte(rng.Uint32())}
		bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		blobs[bid] = data
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := r.RebuildIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	r2 := reopen(t, dir, o)
	n := 0
	for b, want := range blobs {
		if n++; n%1000 == 0 {
			mustLoad(t, r2, b, want)
		}
	}
	st, _ := r2.Stats(ctx)
	if st.Blobs != len(blobs) {
		t.Fatalf("after two rebuilds the index knows %d of %d blobs", st.Blobs, len(blobs))
	}
}
