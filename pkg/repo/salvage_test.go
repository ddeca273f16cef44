package repo

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

func packPath(dir string, p id.ID) string {
	s := p.String()
	return filepath.Join(dir, "data", s[:2], s)
}

// editFile applies f to the bytes of a file (which is read-only on disk).
func editFile(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = f(data)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o400); err != nil {
		t.Fatal(err)
	}
}

func TestSalvage(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.PackSize = MinPackSize })
	rng := rand.New(rand.NewPCG(1, 2))
	blobs := map[id.ID][]byte{}
	for range 120 {
		b := randomBlob(rng, 20<<10+rng.IntN(40<<10))
		bid, _, err := r.SaveBlob(ctx, id.DataBlob, b)
		if err != nil {
			t.Fatal(err)
		}
		blobs[bid] = b
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Group the blobs by pack, in offset order.
	byPack := map[id.ID][]index.Entry{}
	for bid := range blobs {
		loc, ok, err := r.Lookup(bid)
		if err != nil || !ok {
			t.Fatalf("lookup %s: %v %v", bid.Short(), ok, err)
		}
		byPack[loc.Pack] = append(byPack[loc.Pack], index.Entry{ID: bid, Location: loc})
	}
	if len(byPack) < 3 {
		t.Fatalf("want at least 3 packs, got %d", len(byPack))
	}
	var packs []id.ID
	for p := range byPack {
		packs = append(packs, p)
	}
	flipped, truncated := packs[0], packs[1]
	// A bit flip in one blob of the first pack.
	victim := byPack[flipped][0]
	editFile(t, packPath(dir, flipped), func(b []byte) []byte {
		b[victim.Offset+victim.Length/2] ^= 4
		return b
	})
	// The second pack loses its trailer and its last blob's end.
	var cut uint32
	for _, e := range byPack[truncated] {
		cut = max(cut, e.Offset+e.Length-1)
	}
	editFile(t, packPath(dir, truncated), func(b []byte) []byte { return b[:cut] })
	// Junk with a pack's name.
	junk := id.Hash([]byte("junk"))
	if err := os.MkdirAll(filepath.Dir(packPath(dir, junk)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(packPath(dir, junk), []byte("not a pack"), 0o400); err != nil {
		t.Fatal(err)
	}

	if _, err := r.RebuildIndex(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := r.Salvage(ctx, id.NewSet(flipped, truncated), nil)
	if err != nil {
		t.Fatalf("Salvage: %v", err)
	}
	lost := id.NewSet()
	for _, e := range res.Dropped {
		lost.Insert(e.ID)
	}
	wantLost := id.NewSet(victim.ID)
	for _, e := range byPack[truncated] {
		if e.Offset+e.Length > cut {
			wantLost.Insert(e.ID)
		}
	}
	if len(lost) != len(wantLost) {
		t.Errorf("dropped %d blobs, want %d", len(lost), len(wantLost))
	}
	for b := range wantLost {
		if !lost.Has(b) {
			t.Errorf("blob %s not dropped", b.Short())
		}
	}
	if res.PacksRewritten != 2 || len(res.OrphansDeleted) != 1 || res.OrphansDeleted[0] != junk {
		t.Errorf("result %+v", res)
	}
	for _, p := range []id.ID{flipped, truncated, junk} {
		if _, err := os.Stat(packPath(dir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pack %s still there: %v", p.Short(), err)
		}
	}
	verify := func(r *Repo) {
		t.Helper()
		for bid, want := range blobs {
			got, err := r.LoadBlob(ctx, bid, nil)
			switch {
			case wantLost.Has(bid):
				if ok, _ := r.HasBlob(bid); ok || err == nil {
					t.Errorf("lost blob %s still indexed (load err %v)", bid.Short(), err)
				}
			case err != nil || !bytes.Equal(got, want):
				t.Errorf("blob %s: %v", bid.Short(), err)
			}
		}
	}
	verify(r)
	// A fresh cache built from the new index files sees the same.
	o.CacheDir = t.TempDir()
	r2 := reopen(t, dir, o)
	verify(r2)
	// Salvage of a healthy repository changes nothing.
	before := countFiles(t, r2.Backend(), backend.IndexFile)
	res, err = r2.Salvage(ctx, id.NewSet(), nil)
	if err != nil || res.PacksRewritten != 0 || countFiles(t, r2.Backend(), backend.IndexFile) != before {
		t.Errorf("second salvage: %+v, %v", res, err)
	}
}

func TestRepairConfig(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, nil)
	bid, _, err := r.SaveBlob(ctx, id.DataBlob, []byte("kept across a config repair"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	oldCfg := r.Config()
	r.Close()
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ro := ConfigRepairOptions{Options: o}
	if _, err := RepairConfig(ctx, be, ro); !errors.Is(err, ErrConfigIntact) {
		t.Fatalf("RepairConfig of an intact config: %v", err)
	}
	cfgPath := filepath.Join(dir, "config")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	editFile(t, cfgPath, func(b []byte) []byte {
		b[bytes.Index(b, []byte(`"body": "`))+20] ^= 1
		return b
	})
	if _, err := Open(ctx, be, o); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of a damaged config: %v", err)
	}
	if done, err := RepairConfig(ctx, be, ro); err != nil || !done.BodyRebuilt || done.SuiteFixed {
		t.Fatalf("RepairConfig: %+v, %v", done, err)
	}
	r2 := reopen(t, dir, o)
	c := r2.Config()
	if c.ID != oldCfg.ID || c.Suite != oldCfg.Suite || c.Chunker != oldCfg.Chunker || c.PackSize != oldCfg.PackSize {
		t.Errorf("config after repair %+v, before %+v", c, oldCfg)
	}
	mustLoad(t, r2, bid, []byte("kept across a config repair"))
	r2.Close()

	// A body that is not even base64 any more is rebuilt too.
	editFile(t, cfgPath, func(b []byte) []byte {
		b[bytes.Index(b, []byte(`"body": "`))+20] = '!'
		return b
	})
	if done, err := RepairConfig(ctx, be, ro); err != nil || !done.BodyRebuilt {
		t.Fatalf("RepairConfig of a body that is not base64: %+v, %v", done, err)
	}
	o.CacheDir = t.TempDir()
	r3 := reopen(t, dir, o)
	mustLoad(t, r3, bid, []byte("kept across a config repair"))
	r3.Close()

	// A damaged header cannot be repaired.
	editFile(t, cfgPath, func([]byte) []byte { return append([]byte("x"), orig[1:]...) })
	_, err = RepairConfig(ctx, be, ro)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "restore the config file") {
		t.Errorf("RepairConfig of a damaged header: %v", err)
	}
}

// TestRepairConfigRejectsBadParams: a rebuilt body with a pack size Open
// would refuse is never written.
func TestRepairConfigRejectsBadParams(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, nil)
	r.Close()
	cfgPath := filepath.Join(dir, "config")
	editFile(t, cfgPath, func(b []byte) []byte {
		b[bytes.Index(b, []byte(`"body": "`))+20] = '!'
		return b
	})
	before, _ := os.ReadFile(cfgPath)
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RepairConfig(ctx, be, ConfigRepairOptions{Options: o, PackSize: MaxPackSize + 1}); err == nil {
		t.Error("RepairConfig accepted a pack size out of range")
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(after, before) {
		t.Error("RepairConfig with bad parameters changed the config")
	}
}
