package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/mem"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo"
)

// Stages times each step of saving data on one core.
type Stages struct {
	Bytes    int
	Chunks   [][]byte
	Chunk    time.Duration // content-defined chunking
	Hash     time.Duration // keyed BLAKE3 of every chunk
	Compress time.Duration // compression of every chunk
	Seal     time.Duration // sealing every compressed chunk
	Stored   int           // bytes after compression
}

// Sum is the single-core time of all stages together.
func (s Stages) Sum() time.Duration { return s.Chunk + s.Hash + s.Compress + s.Seal }

// Ceiling is the throughput (bytes/s) if all stages were spread perfectly
// over cores with no other cost.
func (s Stages) Ceiling(cores int) float64 {
	return float64(s.Bytes) * float64(cores) / s.Sum().Seconds()
}

// MeasureStages runs each stage over data once, on the calling goroutine.
func MeasureStages(data []byte, pol chunker.Pol, p chunker.Params, spec compress.Spec, key *crypto.Key) (Stages, error) {
	st := Stages{Bytes: len(data)}
	start := time.Now()
	ch := chunker.New(bytes.NewReader(data), pol, p)
	for {
		c, err := ch.Next(nil)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, err
		}
		st.Chunks = append(st.Chunks, c)
	}
	st.Chunk = time.Since(start)

	start = time.Now()
	for _, c := range st.Chunks {
		_ = key.BlobID(c)
	}
	st.Hash = time.Since(start)

	comp := make([][]byte, len(st.Chunks))
	start = time.Now()
	var buf []byte
	for i, c := range st.Chunks {
		buf = compress.Compress(buf[:0], c, spec)
		comp[i] = append([]byte(nil), buf...)
		st.Stored += len(buf)
	}
	st.Compress = time.Since(start)

	ad := make([]byte, 32)
	start = time.Now()
	for _, c := range comp {
		buf = key.Seal(buf[:0], c, ad)
	}
	st.Seal = time.Since(start)
	return st, nil
}

// NewMemRepo creates an encrypted repository in memory for benchmarks.
func NewMemRepo(ctx context.Context, suite crypto.Suite, spec string, cacheDir string) (*repo.Repo, backend.Backend, error) {
	be := mem.New()
	r, err := repo.Init(ctx, be, repo.InitOptions{
		Options:     repo.Options{Passphrase: func() ([]byte, error) { return []byte("bench"), nil }, CacheDir: cacheDir},
		Suite:       suite,
		Compression: spec,
		KDF:         crypto.TestKDF,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("init: %w", err)
	}
	return r, be, nil
}
