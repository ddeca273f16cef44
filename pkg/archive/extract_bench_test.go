package archive_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// benchData returns n bytes that compress about 2:1: random 4 KiB blocks
// alternating with text-like ones.
func benchData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]byte, n)
	for off := 0; off < n; off += 4096 {
		blk := out[off:min(off+4096, n)]
		if (off/4096)%2 == 0 {
			for i := range blk {
				blk[i] = byte(r.Uint32())
			}
			continue
		}
		for i := range blk {
			blk[i] = "the quick brown fox jumps over the lazy dog "[(i+off/4096)%44]
		}
	}
	return out
}

// benchArchive stores files of fileSize bytes (1 MiB chunks) adding up to
// total bytes, and returns the archive record.
func benchArchive(b *testing.B, cs archive.ChunkStore, total, fileSize int) *archive.Record {
	b.Helper()
	ctx := context.Background()
	const chunk = 1 << 20
	var nodes []archive.Node
	for i := 0; i*fileSize < total; i++ {
		data := benchData(uint64(i), fileSize)
		n := archive.Node{Name: fmt.Appendf(nil, "file-%04d", i), Type: archive.TypeFile, Mode: 0o644,
			Mtime: 1_700_000_000_000_000_000, Size: uint64(len(data))}
		for off := 0; off < len(data); off += chunk {
			c := data[off:min(off+chunk, len(data))]
			bid, _, err := cs.SaveBlob(ctx, id.DataBlob, c)
			if err != nil {
				b.Fatal(err)
			}
			n.Content = append(n.Content, archive.DataExtent(bid, uint64(len(c))))
		}
		nodes = append(nodes, n)
	}
	tree, err := archive.SplitTree(nodes, 1<<20, func(data []byte) (id.ID, error) {
		t, _, err := cs.SaveBlob(ctx, id.TreeBlob, data)
		return t, err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := cs.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return &archive.Record{Name: "bench", Tree: tree[:], Stats: archive.Stats{OriginalSize: uint64(total)}}
}

// benchRepo creates an encrypted local repository with compression spec.
func benchRepo(b *testing.B, compression string) *repo.Repo {
	b.Helper()
	be, err := local.Create(filepath.Join(b.TempDir(), "repo"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{
		Options:     repo.Options{Passphrase: func() ([]byte, error) { return []byte("bench"), nil }, CacheDir: b.TempDir(), KeysDir: b.TempDir()},
		KDF:         crypto.TestKDF,
		Compression: compression,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// BenchmarkExtract measures restoring 64 MiB as one file and as 2 MiB
// files, and 16 MiB as 4 KiB files, from an in-memory store and from an encrypted,
// compressed local repository.
func BenchmarkExtract(b *testing.B) {
	stores := []struct {
		name string
		cs   func(b *testing.B) archive.ChunkStore
	}{
		{"memory", func(*testing.B) archive.ChunkStore { return archivetest.New() }},
		{"repo-lz4", func(b *testing.B) archive.ChunkStore { return benchRepo(b, "lz4") }},
		{"repo-zstd", func(b *testing.B) archive.ChunkStore { return benchRepo(b, "zstd") }},
	}
	sizes := []struct {
		name            string
		total, fileSize int
	}{
		{"one-64MiB-file", 64 << 20, 64 << 20},
		{"2MiB-files", 64 << 20, 2 << 20},
		{"4KiB-files", 16 << 20, 4 << 10},
	}
	for _, s := range stores {
		for _, sz := range sizes {
			b.Run(s.name+"/"+sz.name, func(b *testing.B) {
				cs := s.cs(b)
				rec := benchArchive(b, cs, sz.total, sz.fileSize)
				dir := b.TempDir()
				b.SetBytes(int64(sz.total))
				for i := 0; b.Loop(); i++ {
					dest := filepath.Join(dir, fmt.Sprint(i))
					st, err := archive.Extract(context.Background(), cs, rec, archive.ExtractOptions{Destination: dest})
					if err != nil || st.Bytes != uint64(sz.total) {
						b.Fatalf("extract: %v, %+v", err, st)
					}
					b.StopTimer()
					if err := os.RemoveAll(dest); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	}
}
