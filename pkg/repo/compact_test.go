package repo

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// compactFixture is a repository with blobs in several small packs.
type compactFixture struct {
	r     *Repo
	dir   string
	o     Options
	ids   []id.ID
	data  map[id.ID][]byte
	types map[id.ID]id.BlobType
}

// newCompactFixture stores n blobs of about size bytes (every fifth a
// tree blob) in 1 MiB packs.
func newCompactFixture(t *testing.T, n, size int) *compactFixture {
	t.Helper()
	return newCompactFixtureEnc(t, n, size, "")
}

// newCompactFixtureEnc is newCompactFixture with an encryption mode ("" is
// the default).
func newCompactFixtureEnc(t *testing.T, n, size int, enc string) *compactFixture {
	t.Helper()
	r, dir, o := newLocalRepo(t, func(io *InitOptions) { io.PackSize = MinPackSize; io.Compression = "none"; io.Encryption = enc })
	f := &compactFixture{r: r, dir: dir, o: o, data: map[id.ID][]byte{}, types: map[id.ID]id.BlobType{}}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	ctx := context.Background()
	for i := range n {
		typ := id.DataBlob
		if i%5 == 4 {
			typ = id.TreeBlob
		}
		b := randomBlob(rng, size/2+rng.IntN(size))
		bid, _, err := r.SaveBlob(ctx, typ, b)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := f.data[bid]; dup {
			continue
		}
		f.ids = append(f.ids, bid)
		f.data[bid] = b
		f.types[bid] = typ
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// usedFunc marks the blobs keep says to keep.
func (f *compactFixture) usedFunc(keep func(i int) bool) func(func(id.ID) (bool, error)) error {
	return func(mark func(id.ID) (bool, error)) error {
		for i, b := range f.ids {
			if keep(i) {
				if _, err := mark(b); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// repoFiles lists every file of the repository with its size.
func repoFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+" "+string(rune('0'+fi.Size()%10)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// packDirBytes sums the sizes of the pack files.
func packDirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// check verifies that every kept blob loads, in r and in a fresh open with
// a new cache, and that the others are gone from the index.
func (f *compactFixture) check(t *testing.T, r *Repo, keep func(i int) bool, allGone bool) {
	t.Helper()
	o := f.o
	o.CacheDir = t.TempDir()
	fresh := reopen(t, f.dir, o)
	for _, rr := range []*Repo{r, fresh} {
		for i, b := range f.ids {
			if keep(i) {
				mustLoad(t, rr, b, f.data[b])
				continue
			}
			if ok, err := rr.HasBlob(b); err != nil || (ok && allGone) {
				t.Fatalf("unused blob %d (%s) still indexed: %v %v", i, b.Short(), ok, err)
			}
		}
	}
}

func TestCompact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		keep       func(i int) bool
		threshold  float64
		wantRepack int // 0 no, 1 yes, -1 either
		allGone    bool
		minFreed   float64 // share of the pack bytes at least freed
		maxFreed   float64
	}{
		{"keep all", func(int) bool { return true }, 0, 0, true, 0, 0},
		{"keep none", func(int) bool { return false }, 0, 0, true, 0.99, 1},
		{"keep first half", func(i int) bool { return i < 100 }, 0, -1, true, 0.4, 0.6},
		{"keep every other", func(i int) bool { return i%2 == 0 }, 0, 1, true, 0.4, 0.6},
		{"keep 19 of 20, default threshold", func(i int) bool { return i%20 != 0 }, 0, 0, false, 0, 0},
		{"keep 19 of 20, 1% threshold", func(i int) bool { return i%20 != 0 }, 0.01, 1, true, 0.02, 0.08},
		{"keep every other, threshold 1", func(i int) bool { return i%2 == 0 }, 1, 0, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCompactFixture(t, 200, 40<<10)
			before := packDirBytes(t, f.dir)
			res, err := f.r.Compact(context.Background(), CompactOptions{Used: f.usedFunc(tt.keep), Threshold: tt.threshold})
			if err != nil {
				t.Fatal(err)
			}
			after := packDirBytes(t, f.dir)
			if res.BytesFreed != before-after {
				t.Errorf("BytesFreed %d, pack bytes went from %d to %d", res.BytesFreed, before, after)
			}
			share := float64(before-after) / float64(before)
			if share < tt.minFreed || share > tt.maxFreed {
				t.Errorf("freed %.3f of the pack bytes, want %.2f..%.2f (%+v)", share, tt.minFreed, tt.maxFreed, res)
			}
			if tt.wantRepack >= 0 && (res.PacksRepacked > 0) != (tt.wantRepack == 1) {
				t.Errorf("repacked %d packs, want repacking %v", res.PacksRepacked, tt.wantRepack)
			}
			f.check(t, f.r, tt.keep, tt.allGone)
			// A second run has nothing left to do.
			res2, err := f.r.Compact(context.Background(), CompactOptions{Used: f.usedFunc(tt.keep), Threshold: tt.threshold})
			if err != nil {
				t.Fatal(err)
			}
			if res2.PacksDeleted+res2.PacksRepacked+res2.OrphansDeleted != 0 || res2.BytesFreed != 0 {
				t.Errorf("second compact did more: %+v", res2)
			}
			if res2.BytesUnusedLeft != res.BytesUnusedLeft {
				t.Errorf("unused bytes left: %d, then %d", res.BytesUnusedLeft, res2.BytesUnusedLeft)
			}
		})
	}
}

func TestCompactDryRun(t *testing.T) {
	t.Parallel()
	f := newCompactFixture(t, 100, 40<<10)
	keep := func(i int) bool { return i%3 == 0 }
	before := repoFiles(t, f.dir)
	res, err := f.r.Compact(context.Background(), CompactOptions{Used: f.usedFunc(keep), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.BytesFreed <= 0 || res.PacksRepacked+res.PacksDeleted == 0 {
		t.Errorf("dry run predicts nothing: %+v", res)
	}
	if after := repoFiles(t, f.dir); !slices.Equal(before, after) {
		t.Errorf("dry run changed the repository:\n%v\n%v", before, after)
	}
	f.check(t, f.r, func(int) bool { return true }, true)
	// The prediction is close to what is then done.
	real, err := f.r.Compact(context.Background(), CompactOptions{Used: f.usedFunc(keep)})
	if err != nil {
		t.Fatal(err)
	}
	if real.PacksDeleted != res.PacksDeleted || real.PacksRepacked != res.PacksRepacked ||
		real.BytesFreed < res.BytesFreed-64<<10 || real.BytesFreed > res.BytesFreed+64<<10 {
		t.Errorf("dry run %+v, real %+v", res, real)
	}
}

func TestCompactRefuses(t *testing.T) {
	t.Parallel()
	boom := errors.New("tree unreadable")
	tests := []struct {
		name string
		used func(f *compactFixture) func(func(id.ID) (bool, error)) error
		want error
	}{
		{"used fails", func(*compactFixture) func(func(id.ID) (bool, error)) error {
			return func(func(id.ID) (bool, error)) error { return boom }
		}, boom},
		{"unknown blob", func(f *compactFixture) func(func(id.ID) (bool, error)) error {
			return func(mark func(id.ID) (bool, error)) error {
				if _, err := mark(f.ids[0]); err != nil {
					return err
				}
				_, err := mark(id.Hash([]byte("not stored")))
				return err
			}
		}, ErrBlobNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCompactFixture(t, 40, 40<<10)
			before := repoFiles(t, f.dir)
			_, err := f.r.Compact(context.Background(), CompactOptions{Used: tt.used(f)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if after := repoFiles(t, f.dir); !slices.Equal(before, after) {
				t.Errorf("refused compact changed the repository")
			}
		})
	}
}

func TestCompactMarkSeen(t *testing.T) {
	t.Parallel()
	f := newCompactFixture(t, 10, 1<<10)
	_, err := f.r.Compact(context.Background(), CompactOptions{Used: func(mark func(id.ID) (bool, error)) error {
		for round, want := range []bool{false, true} {
			seen, err := mark(f.ids[3])
			if err != nil || seen != want {
				t.Errorf("mark round %d: seen %v, %v; want %v", round, seen, err, want)
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompactOrphans(t *testing.T) {
	t.Parallel()
	f := newCompactFixture(t, 60, 40<<10)
	// A pack whose trailer cannot be read and that no index names.
	junk := []byte(strings.Repeat("junk", 1000))
	jid := id.Hash(junk)
	junkPath := filepath.Join(f.dir, "data", jid.String()[:2], jid.String())
	if err := os.MkdirAll(filepath.Dir(junkPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junkPath, junk, 0o400); err != nil {
		t.Fatal(err)
	}
	// Index files lost: their packs are orphans that hold used blobs; they
	// are indexed again, not deleted.
	idx, _ := filepath.Glob(filepath.Join(f.dir, "index", "*"))
	for _, p := range idx {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	o := f.o
	o.CacheDir = t.TempDir()
	r := reopen(t, f.dir, o)
	keep := func(i int) bool { return i < 30 }
	res, err := r.Compact(context.Background(), CompactOptions{Used: f.usedFunc(keep)})
	if err != nil {
		t.Fatal(err)
	}
	if res.OrphansDeleted != 1 {
		t.Errorf("orphans deleted: %d, want the junk pack only", res.OrphansDeleted)
	}
	if _, err := os.Stat(junkPath); !os.IsNotExist(err) {
		t.Errorf("junk pack still there: %v", err)
	}
	f.check(t, r, keep, false)
}
