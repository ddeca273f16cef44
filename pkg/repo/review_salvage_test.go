package repo

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// A blob stored in two packs (two backups running at once under shared
// locks both upload it) where both packs are damaged, but differently:
// the copy the cache happens to locate is bad, the other copy is good.
// Salvage visits only the cache's one location per blob (ForEachBlob), so
// it drops the blob although a verified copy exists in the other pack,
// which it then deletes.
func TestReviewSalvageKeepsGoodDuplicateInOtherDamagedPack(t *testing.T) {
	ctx := context.Background()
	r1, dir, o := newLocalRepo(t, func(o *InitOptions) { o.PackSize = MinPackSize })
	o2 := o
	o2.CacheDir = t.TempDir()
	r2 := reopen(t, dir, o2) // a second writer, opened before r1 writes
	rng := rand.New(rand.NewPCG(5, 6))
	shared := randomBlob(rng, 30<<10)
	for _, r := range []*Repo{r1, r2} {
		if _, _, err := r.SaveBlob(ctx, id.DataBlob, shared); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.SaveBlob(ctx, id.DataBlob, randomBlob(rng, 30<<10)); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r1.Close()
	r2.Close()
	o3 := o
	o3.CacheDir = t.TempDir()
	r := reopen(t, dir, o3)
	if _, err := r.RebuildIndex(ctx); err != nil {
		t.Fatal(err)
	}
	bid := r.BlobID(shared)
	loc, ok, err := r.Lookup(bid)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	sizes, err := r.listPackSizes(ctx)
	if err != nil || len(sizes) != 2 {
		t.Fatalf("want 2 packs, got %d (%v)", len(sizes), err)
	}
	var other id.ID
	for p := range sizes {
		if p != loc.Pack {
			other = p
		}
	}
	// The located copy of the shared blob rots; in the other pack, the
	// other blob rots (so that pack is damaged too), the shared copy is fine.
	for _, p := range []id.ID{loc.Pack, other} {
		entries, _, err := r.PackBlobs(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if (p == loc.Pack) == (e.ID == bid) {
				editFile(t, packPath(dir, p), func(b []byte) []byte {
					b[e.Offset+e.Length/2] ^= 1
					return b
				})
			}
		}
	}
	res, err := r.Salvage(ctx, id.NewSet(loc.Pack, other), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("salvage: %+v", res)
	got, err := r.LoadBlob(ctx, bid, nil)
	if err != nil || string(got) != string(shared) {
		t.Fatalf("the shared blob had a good copy in pack %s but is lost after Salvage: %v", other.Short(), err)
	}
}
