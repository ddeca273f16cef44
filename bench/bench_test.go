package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
)

// benchSize is the amount of mixed data the benchmarks use: 256 MiB, or
// GOBAK_BENCH_MIB.
func benchSize() int {
	if v, err := strconv.Atoi(os.Getenv("GOBAK_BENCH_MIB")); err == nil && v > 0 {
		return v << 20
	}
	return 256 << 20
}

var (
	dataOnce sync.Once
	data     []byte
	chunks   [][]byte
	dataErr  error
	pol      chunker.Pol
)

func load(b *testing.B) ([]byte, [][]byte) {
	b.Helper()
	dataOnce.Do(func() {
		data, dataErr = MixedData(benchSize())
		if dataErr != nil {
			return
		}
		if pol, dataErr = chunker.RandomPolynomial(); dataErr != nil {
			return
		}
		ch := chunker.New(bytes.NewReader(data), pol, chunker.DefaultParams())
		for {
			c, err := ch.Next(nil)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				dataErr = err
				return
			}
			chunks = append(chunks, c)
		}
	})
	if dataErr != nil {
		b.Fatal(dataErr)
	}
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "cores")
	return data, chunks
}

func newKey(b *testing.B, s crypto.Suite) *crypto.Key {
	b.Helper()
	mk, err := crypto.NewMasterKey()
	if err != nil {
		b.Fatal(err)
	}
	k, err := crypto.NewKey(mk, s)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func BenchmarkChunker(b *testing.B) {
	d, _ := load(b)
	b.SetBytes(int64(len(d)))
	buf := make([]byte, 0, chunker.DefaultParams().Max)
	for b.Loop() {
		ch := chunker.New(bytes.NewReader(d), pol, chunker.DefaultParams())
		for {
			var err error
			if buf, err = ch.Next(buf); err != nil {
				break
			}
		}
	}
}

func BenchmarkBlobID(b *testing.B) {
	d, cs := load(b)
	k := newKey(b, crypto.AES256GCM)
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		for _, c := range cs {
			_ = k.BlobID(c)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	d, cs := load(b)
	for _, s := range []string{"lz4", "s2", "zstd,1", "zstd,3"} {
		spec, err := compress.ParseSpec(s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s, func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			var buf []byte
			var out int
			for b.Loop() {
				out = 0
				for _, c := range cs {
					buf = compress.Compress(buf[:0], c, spec)
					out += len(buf)
				}
			}
			b.ReportMetric(float64(out)/float64(len(d)), "ratio")
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	d, cs := load(b)
	for _, s := range []string{"lz4", "s2", "zstd,3"} {
		spec, _ := compress.ParseSpec(s)
		comp := make([][]byte, len(cs))
		for i, c := range cs {
			comp[i] = compress.Compress(nil, c, spec)
		}
		b.Run(s, func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			var buf []byte
			for b.Loop() {
				for i, c := range comp {
					var err error
					if buf, err = compress.Decompress(buf[:0], c, len(cs[i])); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkSealOpen(b *testing.B) {
	d, cs := load(b)
	ad := make([]byte, 32)
	for _, s := range []crypto.Suite{crypto.AES256GCM, crypto.ChaCha20Poly1305} {
		k := newKey(b, s)
		b.Run("seal/"+string(s), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			var buf []byte
			for b.Loop() {
				for _, c := range cs {
					buf = k.Seal(buf[:0], c, ad)
				}
			}
		})
		sealed := make([][]byte, len(cs))
		for i, c := range cs {
			sealed[i] = k.Seal(nil, c, ad)
		}
		b.Run("open/"+string(s), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			var buf []byte
			for b.Loop() {
				for _, c := range sealed {
					var err error
					if buf, err = k.Open(buf[:0], c, ad); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkSaveBlob chunks the data in one goroutine and saves it from
// GOMAXPROCS workers into a fresh in-memory repository each iteration.
func BenchmarkSaveBlob(b *testing.B) {
	d, _ := load(b)
	ctx := context.Background()
	for _, spec := range []string{"lz4", "zstd,3"} {
		b.Run(spec, func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				b.StopTimer()
				r, _, err := NewMemRepo(ctx, crypto.AES256GCM, spec, b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				n, err := SaveStream(ctx, r, d, r.Config().Polynomial, r.Config().Chunker, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.ReportMetric(float64(n), "chunks")
				r.Close()
				b.StartTimer()
			}
		})
	}
}

// TestMixedData checks the data loader itself (it is real code: the
// benchmarks' numbers depend on it).
func TestMixedData(t *testing.T) {
	dir := t.TempDir()
	for i, s := range []string{"aaaa", "bbbbbb", ""} {
		if err := os.WriteFile(fmt.Sprintf("%s/f%d", dir, i), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := MixedData(8, dir)
	if err != nil || string(got) != "aaaabbbb" {
		t.Fatalf("got %q %v", got, err)
	}
	got, _ = MixedData(100, dir)
	if string(got) != "aaaabbbbbb" {
		t.Fatalf("short roots: %q", got)
	}
}
