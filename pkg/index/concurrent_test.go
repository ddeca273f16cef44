package index

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// TestConcurrentReadersOneWriter runs lookups, batch lookups and Stats from
// several goroutines while one writer adds packs; run it with -race.
func TestConcurrentReadersOneWriter(t *testing.T) {
	c := openTest(t)
	const (
		packs   = 200
		perPack = 16
		readers = 4
	)
	// published is the number of packs fully committed; readers only
	// expect to find blobs of those packs.
	var published atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)

	wg.Add(1)
	go func() {
		defer wg.Done()
		for p := range packs {
			if err := c.AddPack(testID("pack", p), testEntries(p*perPack, perPack)); err != nil {
				errs <- err
				return
			}
			published.Store(int64(p + 1))
		}
	}()

	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]id.ID, 8)
			found := make([]bool, len(batch))
			lastBlobs := 0
			for i := 0; published.Load() < packs; i++ {
				n := int(published.Load())
				if n == 0 {
					continue
				}
				p := (i*7 + r) % n
				blob := p*perPack + i%perPack
				loc, ok, err := c.Lookup(testID("blob", blob))
				if err != nil || !ok || loc.Pack != testID("pack", p) {
					t.Errorf("reader %d: blob %d of published pack %d: found=%v pack=%s err=%v",
						r, blob, p, ok, loc.Pack.Short(), err)
					return
				}
				for j := range batch {
					batch[j] = testID("blob", (blob+j*perPack)%(n*perPack))
				}
				if err := c.HasMany(batch, found); err != nil {
					errs <- err
					return
				}
				for j, ok := range found {
					if !ok {
						t.Errorf("reader %d: HasMany missed batch[%d]", r, j)
						return
					}
				}
				st, err := c.Stats()
				if err != nil {
					errs <- err
					return
				}
				if st.Blobs < lastBlobs || st.Blobs < n*perPack {
					t.Errorf("reader %d: Stats.Blobs = %d after %d, with %d packs published", r, st.Blobs, lastBlobs, n)
					return
				}
				lastBlobs = st.Blobs
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := mustStats(t, c); st.Blobs != packs*perPack || st.Packs != packs {
		t.Errorf("final Stats = %+v", st)
	}
}
