package index

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

const (
	benchBlobs   = 1_000_000
	benchPerPack = 16
	// benchPerFile packs go into one AddIndexFile transaction while the
	// benchmark cache is built.
	benchPerFile = 15_625
)

var bench struct {
	once  sync.Once
	dir   string
	cache *Cache
	blobs []id.ID
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.cache != nil {
		_ = bench.cache.Close()
	}
	if bench.dir != "" {
		_ = os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchCache returns a cache holding benchBlobs blobs in packs of
// benchPerPack, built once per test binary with large batched transactions.
func benchCache(b *testing.B) (*Cache, []id.ID) {
	b.Helper()
	bench.once.Do(func() {
		bench.dir, bench.err = os.MkdirTemp("", "gobak-index-bench-")
		if bench.err != nil {
			return
		}
		c, err := Open(filepath.Join(bench.dir, "index.db"), testRepo)
		if err != nil {
			bench.err = err
			return
		}
		bench.cache = c
		bench.blobs = make([]id.ID, benchBlobs)
		packs := make(map[id.ID][]Entry, benchPerFile)
		for p := 0; p*benchPerPack < benchBlobs; p++ {
			entries := testEntries(p*benchPerPack, benchPerPack)
			for i, e := range entries {
				bench.blobs[p*benchPerPack+i] = e.ID
			}
			packs[testID("pack", p)] = entries
			if len(packs) == benchPerFile || (p+1)*benchPerPack >= benchBlobs {
				if bench.err = c.AddIndexFile(testID("index", p), packs); bench.err != nil {
					return
				}
				packs = make(map[id.ID][]Entry, benchPerFile)
			}
		}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.cache, bench.blobs
}

func BenchmarkLookup(b *testing.B) {
	c, blobs := benchCache(b)
	if st := mustStats(b, c); st.Blobs != benchBlobs {
		b.Fatalf("cache holds %d blobs, want %d", st.Blobs, benchBlobs)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	hits := make([]id.ID, 1<<16)
	misses := make([]id.ID, 1<<16)
	for i := range hits {
		hits[i] = blobs[rng.IntN(len(blobs))]
		misses[i] = testID("missing", i)
	}
	const mask = 1<<16 - 1

	b.Run("hit", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok, err := c.Lookup(hits[i&mask]); err != nil || !ok {
				b.Fatalf("hit missed: %v", err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, ok, err := c.Lookup(misses[i&mask]); err != nil || ok {
				b.Fatalf("miss found: %v", err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, ok, err := c.Lookup(hits[i&mask]); err != nil || !ok {
					b.Errorf("hit missed: %v", err)
					return
				}
			}
		})
	})
	const batch = 1024
	b.Run("HasMany-1024", func(b *testing.B) {
		found := make([]bool, batch)
		for i := 0; b.Loop(); i++ {
			off := (i * batch) & mask
			if err := c.HasMany(hits[off:off+batch], found); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/blob")
	})
	b.Run("LookupMany-1024", func(b *testing.B) {
		found := make([]bool, batch)
		locs := make([]Location, batch)
		for i := 0; b.Loop(); i++ {
			off := (i * batch) & mask
			if err := c.LookupMany(hits[off:off+batch], locs, found); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/blob")
	})
}

func BenchmarkAddPack(b *testing.B) {
	c := openTest(b)
	for i := 0; b.Loop(); i++ {
		if err := c.AddPack(testID("pack", i), testEntries(i*benchPerPack, benchPerPack)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPerPack), "ns/blob")
}
