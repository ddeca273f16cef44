package archive

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo"
)

// benchRepo creates an encrypted repository (lz4, default chunker) in a
// temporary directory.
func benchRepo(b *testing.B) *repo.Repo {
	b.Helper()
	be, err := local.Create(filepath.Join(b.TempDir(), "repo"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{
		Options: repo.Options{Passphrase: func() ([]byte, error) { return []byte("bench"), nil }},
		KDF:     crypto.TestKDF,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close(); be.Close() })
	return r
}

// treeSize returns the bytes and regular files below dir.
func treeSize(dir string) (size int64, files int) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
				files++
			}
		}
		return nil
	})
	return size, files
}

// generatedTree writes about 200 MiB of mixed files: 2000 small
// text-like files in 40 directories, and 24 large files that are half
// random, half repetitive.
func generatedTree(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	{
		for i := range 2000 {
			text := make([]byte, 0, 16<<10)
			for len(text) < 2048+(i*7919)%(24<<10) {
				text = fmt.Appendf(text, "line %d of file %d: the quick brown fox %x\n", len(text), i, pseudoRandom(8, uint64(len(text)+i)))
			}
			p := filepath.Join(dir, fmt.Sprintf("d%02d", i%40), fmt.Sprintf("f%04d.txt", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, text, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 24 {
			data := pseudoRandom(4<<20, uint64(1000+i))
			rep := make([]byte, 3<<20)
			for j := range rep {
				rep[j] = byte(j % 251)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("big%02d.bin", i)), append(data, rep...), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return dir
}

func BenchmarkCreate(b *testing.B) {
	type dataset struct{ name, dir string }
	sets := []dataset{{"generated", ""}}
	if size, _ := treeSize("/usr/share/doc"); size > 10<<20 {
		sets = append(sets, dataset{"usr-share-doc", "/usr/share/doc"})
	}
	for _, ds := range sets {
		dir := ds.dir
		if dir == "" {
			dir = generatedTree(b)
		}
		size, files := treeSize(dir)
		b.Run(ds.name+"/first", func(b *testing.B) {
			b.SetBytes(size)
			n := 0
			for b.Loop() {
				b.StopTimer()
				r := benchRepo(b)
				b.StartTimer()
				n++
				o := baseOptions(fmt.Sprintf("a%d", n), dir)
				o.Chunker, o.Polynomial = r.Config().Chunker, r.Config().Polynomial
				if _, _, err := Create(context.Background(), r, r, o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(files), "files")
		})
		b.Run(ds.name+"/unchanged", func(b *testing.B) {
			r := benchRepo(b)
			o := baseOptions("first", dir)
			o.Chunker, o.Polynomial = r.Config().Chunker, r.Config().Polynomial
			rec, aid, err := Create(context.Background(), r, r, o)
			if err != nil {
				b.Fatal(err)
			}
			parent := &Entry{ID: aid, Record: rec}
			b.SetBytes(size)
			n := 0
			for b.Loop() {
				n++
				o.Name, o.Parent = fmt.Sprintf("u%d", n), parent
				rec, _, err := Create(context.Background(), r, r, o)
				if err != nil {
					b.Fatal(err)
				}
				if rec.Stats.ReadBytes != 0 {
					b.Fatalf("unchanged run read %d bytes", rec.Stats.ReadBytes)
				}
			}
		})
	}
}
