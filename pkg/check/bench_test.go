package check

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

// benchRepoMiB is the plaintext size of the benchmark repository
// (GOBAK_BENCH_MIB is not read: pkg code and its tests take no
// environment; edit the constant for larger runs).
const benchRepoMiB = 256

// benchRepo creates a repository of benchRepoMiB MiB of 1 MiB blobs (a
// third compressible text, the rest random) in 16 MiB packs, in a
// directory removed when b ends.
func benchRepo(b *testing.B) string {
	b.Helper()
	benchDir := b.TempDir()
	var benchErr error
	func() {
		be, err := local.Create(filepath.Join(benchDir, "repo"))
		if err != nil {
			benchErr = err
			return
		}
		ctx := context.Background()
		r, err := repo.Init(ctx, be, repo.InitOptions{Options: benchOpts(benchDir), KDF: crypto.TestKDF})
		if err != nil {
			benchErr = err
			return
		}
		defer r.Close()
		rng := rand.New(rand.NewPCG(9, 9))
		words := []string{"backup ", "chunk ", "pack ", "index ", "tree ", "verify ", "\n"}
		for i := 0; i < benchRepoMiB; i++ {
			data := make([]byte, 1<<20)
			if i%3 == 0 {
				var buf bytes.Buffer
				for buf.Len() < len(data) {
					buf.WriteString(words[rng.IntN(len(words))])
					buf.WriteString(strconv.Itoa(rng.IntN(1000)))
				}
				copy(data, buf.Bytes())
			} else {
				for j := range data {
					data[j] = byte(rng.Uint32())
				}
			}
			if _, _, err := r.SaveBlob(ctx, id.DataBlob, data); err != nil {
				benchErr = err
				return
			}
		}
		benchErr = r.Flush(ctx)
	}()
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "repo")
}

func benchOpts(dir string) repo.Options {
	return repo.Options{Passphrase: func() ([]byte, error) { return testPass, nil }, CacheDir: filepath.Join(dir, "cache")}
}

// BenchmarkCheck measures check of the repository part: trailers only,
// --verify-data opening blobs from the pack read once, and --verify-data
// with repo.LoadBlob per blob (the pack read twice). Bytes are stored
// (pack) bytes, so MB/s is of stored data.
func BenchmarkCheck(b *testing.B) {
	dir := benchRepo(b)
	be, err := local.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Open(context.Background(), be, benchOpts(filepath.Dir(dir)))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	st, err := r.Stats(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("repository: %d packs, %d blobs, %d MiB stored, %d MiB raw", st.Packs, st.Blobs, st.StoredBytes>>20, st.RawBytes>>20)
	for _, bc := range []struct {
		name    string
		o       Options
		perBlob bool
	}{
		{"trailers", Options{RepositoryOnly: true}, false},
		{"verify-data", Options{RepositoryOnly: true, VerifyData: true}, false},
		{"verify-data-1-worker", Options{RepositoryOnly: true, VerifyData: true, Workers: 1}, false},
		{"verify-data-loadblob", Options{RepositoryOnly: true, VerifyData: true}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(st.StoredBytes))
			for b.Loop() {
				c := &checker{ctx: context.Background(), r: r, be: r.Backend(), key: r.Key(), o: bc.o,
					report: func(p Problem) { b.Errorf("problem: %s", p) }, bad: map[id.ID]blobIssue{},
					unindexed: map[id.ID]index.Location{}, perBlobLoad: bc.perBlob}
				if c.o.Workers == 0 {
					c.o.Workers = 2
				}
				sum, err := c.run()
				if err != nil {
					b.Fatal(err)
				}
				if bc.o.VerifyData && (sum.PacksRead != sum.Packs || sum.BlobsVerified != st.Blobs) {
					b.Fatalf("summary %+v, want %d packs and %d blobs verified", sum, st.Packs, st.Blobs)
				}
			}
		})
	}
}
