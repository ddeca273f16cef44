package repo

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// savedBlobs saves n random blobs of up to max bytes and flushes.
func savedBlobs(t *testing.T, r *Repo, n, maxSize int) ([]id.ID, map[id.ID][]byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	content := map[id.ID][]byte{}
	var ids []id.ID
	for range n {
		b := randomBlob(rng, 1+rng.IntN(maxSize))
		bid, _, err := r.SaveBlob(context.Background(), id.DataBlob, b)
		if err != nil {
			t.Fatal(err)
		}
		content[bid] = b
		ids = append(ids, bid)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ids, content
}

func TestLoadBlobs(t *testing.T) {
	r, _, _ := newLocalRepo(t, func(o *InitOptions) { o.PackSize = MinPackSize })
	ids, content := savedBlobs(t, r, 300, 40<<10)
	missing := id.Hash([]byte("not stored"))
	tests := []struct {
		name string
		ask  []id.ID
	}{
		{"all in order", ids},
		{"reversed", func() []id.ID {
			out := make([]id.ID, len(ids))
			for i, b := range ids {
				out[len(ids)-1-i] = b
			}
			return out
		}()},
		{"repeats and a missing blob", []id.ID{ids[3], missing, ids[3], ids[0], ids[3]}},
		{"none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make([]int, len(tt.ask))
			err := r.LoadBlobs(context.Background(), tt.ask, func(i int, data []byte, err error) error {
				calls[i]++
				if tt.ask[i] == missing {
					if !errors.Is(err, ErrBlobNotFound) {
						t.Errorf("missing blob: err = %v, want ErrBlobNotFound", err)
					}
					return nil
				}
				if err != nil {
					t.Errorf("blob %d: %v", i, err)
				} else if !bytes.Equal(data, content[tt.ask[i]]) {
					t.Errorf("blob %d: content differs", i)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range calls {
				if n != 1 {
					t.Errorf("fn called %d times for index %d", n, i)
				}
			}
		})
	}
}

func TestLoadBlobsStopsOnCallbackError(t *testing.T) {
	r, _, _ := newLocalRepo(t, nil)
	ids, _ := savedBlobs(t, r, 10, 1000)
	stop := errors.New("stop")
	n := 0
	err := r.LoadBlobs(context.Background(), ids, func(int, []byte, error) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d calls, want the callback's error after 1", err, n)
	}
}

func TestLoadBlobsDamage(t *testing.T) {
	r, dir, _ := newLocalRepo(t, nil)
	ids, _ := savedBlobs(t, r, 20, 1000)
	// Flip a byte in the middle of the first blob of its pack and remove
	// nothing else: that blob is damaged, the others still load.
	loc, ok, err := r.Lookup(ids[0])
	if err != nil || !ok {
		t.Fatalf("lookup: %v %v", ok, err)
	}
	path := filepath.Join(dir, "data", loc.Pack.String()[:2], loc.Pack.String())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[loc.Offset+loc.Length/2] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := 0
	err = r.LoadBlobs(context.Background(), ids, func(i int, _ []byte, err error) error {
		if err != nil {
			if !errors.Is(err, ErrDamaged) || i != 0 {
				t.Errorf("blob %d: %v", i, err)
			}
			bad++
		}
		return nil
	})
	if err != nil || bad != 1 {
		t.Errorf("err = %v, %d damaged blobs, want 1", err, bad)
	}
	// A missing pack damages every blob in it.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	bad = 0
	_ = r.LoadBlobs(context.Background(), ids, func(_ int, _ []byte, err error) error {
		if errors.Is(err, ErrDamaged) {
			bad++
		}
		return nil
	})
	if bad != len(ids) {
		t.Errorf("%d of %d blobs damaged with the pack gone", bad, len(ids))
	}
}

func TestRunEnd(t *testing.T) {
	p1, p2 := id.Hash([]byte("1")), id.Hash([]byte("2"))
	blob := func(p id.ID, off, n uint32) plannedBlob {
		return plannedBlob{loc: index.Location{Pack: p, Offset: off, Length: n}}
	}
	tests := []struct {
		name string
		plan []plannedBlob
		want int
		gap  int64 // 0: the default
	}{
		{"one", []plannedBlob{blob(p1, 0, 10)}, 1, 0},
		{"adjacent", []plannedBlob{blob(p1, 0, 10), blob(p1, 10, 10), blob(p1, 20, 5)}, 3, 0},
		{"small gap", []plannedBlob{blob(p1, 0, 10), blob(p1, 10+defaultReadGap, 10)}, 2, 0},
		{"large gap", []plannedBlob{blob(p1, 0, 10), blob(p1, 11+defaultReadGap, 10)}, 1, 0},
		{"other pack", []plannedBlob{blob(p1, 0, 10), blob(p2, 10, 10)}, 1, 0},
		{"too long", []plannedBlob{blob(p1, 0, maxReadRun-10), blob(p1, maxReadRun-10, 11)}, 1, 0},
		{"exactly the limit", []plannedBlob{blob(p1, 0, maxReadRun-10), blob(p1, maxReadRun-10, 10)}, 2, 0},
		{"single huge blob", []plannedBlob{blob(p1, 0, 2*maxReadRun), blob(p1, 2*maxReadRun, 1)}, 1, 0},
		{"large gap, larger ReadGap", []plannedBlob{blob(p1, 0, 10), blob(p1, 11+defaultReadGap, 10)}, 2, 2 << 20},
		{"gap over a larger ReadGap", []plannedBlob{blob(p1, 0, 10), blob(p1, 11+2<<20, 10)}, 1, 2 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gap := int64(defaultReadGap)
			if tt.gap != 0 {
				gap = tt.gap
			}
			if got := runEnd(tt.plan, 0, gap); got != tt.want {
				t.Errorf("runEnd = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLookupMany(t *testing.T) {
	r, _, _ := newLocalRepo(t, nil)
	ids, _ := savedBlobs(t, r, 50, 1000)
	ask := append([]id.ID{id.Hash([]byte("absent"))}, ids...)
	locs := make([]index.Location, len(ask))
	found := make([]bool, len(ask))
	if err := r.LookupMany(ask, locs, found); err != nil {
		t.Fatal(err)
	}
	for i, b := range ask {
		loc, ok, err := r.Lookup(b)
		if err != nil {
			t.Fatal(err)
		}
		if ok != found[i] || loc != locs[i] {
			t.Errorf("blob %d: LookupMany %v %+v, Lookup %v %+v", i, found[i], locs[i], ok, loc)
		}
	}
	if found[0] || !found[1] {
		t.Errorf("found = %v", found[:2])
	}
	if err := r.LookupMany(ask, locs[:1], found); err == nil {
		t.Error("no error for short locs")
	}
}
