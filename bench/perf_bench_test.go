package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// Benchmarks of the paths that dominate backups of many small files and
// restores: the unchanged backup (walk, parent lookup, batch lookups), a
// first backup, extraction, and loading blobs one by one versus in
// storage order. They use a local repository in a temporary directory.

// smallTreeFiles is the size of the generated tree: small enough for the
// whole set of benchmarks to run in well under two minutes.
const smallTreeFiles = 4000

// newLocalRepo creates an encrypted repository on disk.
func newLocalRepo(b *testing.B) *repo.Repo {
	b.Helper()
	be, err := local.Create(filepath.Join(b.TempDir(), "repo"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{
		Options: repo.Options{Passphrase: func() ([]byte, error) { return []byte("bench"), nil }, CacheDir: b.TempDir()},
		KDF:     crypto.TestKDF,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// smallTree writes n small files in directories of 100 and returns the
// root.
func smallTree(b *testing.B, n int) string {
	b.Helper()
	root := filepath.Join(b.TempDir(), "tree")
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		data := make([]byte, 64+rng.IntN(4096))
		for j := range data {
			data[j] = byte('a' + rng.IntN(26))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.txt", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// Keep the files out of the racy window of the backups that follow
	// (their ctime must be over a second before the parent's start).
	time.Sleep(1100 * time.Millisecond)
	return root
}

// backUp runs one archive.Create of root into r, with the newest archive
// of the same paths as parent.
func backUp(b *testing.B, r *repo.Repo, root, name string) *archive.Record {
	b.Helper()
	ctx := context.Background()
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil {
		b.Fatal(err)
	}
	cfg := r.Config()
	o := archive.CreateOptions{
		Name:        name,
		Paths:       []string{root},
		Polynomial:  cfg.Polynomial,
		Chunker:     cfg.Chunker,
		Compression: cfg.Compression.String(),
		Hostname:    "bench",
		Parent:      archive.FindParent(list, "bench", [][]byte{[]byte(root)}),
	}
	rec, _, err := archive.Create(ctx, r, r, o)
	if err != nil {
		b.Fatal(err)
	}
	return rec
}

func BenchmarkCreateSmallFiles(b *testing.B) {
	root := smallTree(b, smallTreeFiles)
	b.Run("first", func(b *testing.B) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			r := newLocalRepo(b)
			b.StartTimer()
			backUp(b, r, root, fmt.Sprint("a", i))
			i++
		}
		b.ReportMetric(float64(smallTreeFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("unchanged", func(b *testing.B) {
		r := newLocalRepo(b)
		backUp(b, r, root, "base")
		i := 0
		for b.Loop() {
			rec := backUp(b, r, root, fmt.Sprint("u", i))
			if rec.Stats.ReadBytes != 0 {
				b.Fatalf("unchanged backup read %d bytes", rec.Stats.ReadBytes)
			}
			i++
		}
		b.ReportMetric(float64(smallTreeFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
}

func BenchmarkExtractSmallFiles(b *testing.B) {
	root := smallTree(b, smallTreeFiles)
	r := newLocalRepo(b)
	rec := backUp(b, r, root, "a")
	for b.Loop() {
		b.StopTimer()
		dest := filepath.Join(b.TempDir(), "dest")
		b.StartTimer()
		if _, err := archive.Extract(context.Background(), r, rec, archive.ExtractOptions{Destination: dest}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(smallTreeFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkLoadBlobs loads the same 4096 small blobs one by one
// (LoadBlob: a read of the pack per blob) and in one LoadBlobs call
// (ranged reads in pack order).
func BenchmarkLoadBlobs(b *testing.B) {
	ctx := context.Background()
	r := newLocalRepo(b)
	rng := rand.New(rand.NewPCG(2, 2))
	var ids []id.ID
	var total int64
	for range 4096 {
		data := make([]byte, 1024+rng.IntN(8192))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, bid)
		total += int64(len(data))
	}
	if err := r.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("each", func(b *testing.B) {
		b.SetBytes(total)
		var buf []byte
		for b.Loop() {
			for _, bid := range ids {
				var err error
				if buf, err = r.LoadBlob(ctx, bid, buf); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("batch", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			if err := r.LoadBlobs(ctx, ids, func(_ int, _ []byte, err error) error { return err }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
