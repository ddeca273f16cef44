package chunker

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// testPol is a fixed irreducible polynomial of degree 53 (the one in
// restic's chunker tests).
const testPol = Pol(0x3DA3358B4DC173)

// smallParams give many chunks on little data.
var smallParams = Params{Min: 8 << 10, Avg: 32 << 10, Max: 128 << 10}

// pseudoRandom returns n deterministic bytes: SHA-256 in counter mode
// seeded by seed, stable across Go versions.
func pseudoRandom(n int, seed uint64) []byte {
	out := make([]byte, 0, n+sha256.Size)
	var block [16]byte
	binary.LittleEndian.PutUint64(block[:8], seed)
	for i := uint64(0); len(out) < n; i++ {
		binary.LittleEndian.PutUint64(block[8:], i)
		sum := sha256.Sum256(block[:])
		out = append(out, sum[:]...)
	}
	return out[:n]
}

// chunkAll splits data and returns the chunks (copies).
func chunkAll(t testing.TB, r io.Reader, pol Pol, p Params) [][]byte {
	t.Helper()
	c := New(r, pol, p)
	var chunks [][]byte
	var buf []byte
	for {
		chunk, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return chunks
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		chunks = append(chunks, bytes.Clone(chunk))
		buf = chunk
	}
}

// lengths returns the length of each chunk.
func lengths(chunks [][]byte) []int {
	out := make([]int, len(chunks))
	for i, c := range chunks {
		out[i] = len(c)
	}
	return out
}

// checkChunks asserts that chunks reassemble to data and respect p.
func checkChunks(t *testing.T, data []byte, chunks [][]byte, p Params) {
	t.Helper()
	if got := bytes.Join(chunks, nil); !bytes.Equal(got, data) {
		t.Fatalf("chunks reassemble to %d bytes that differ from the %d input bytes", len(got), len(data))
	}
	for i, c := range chunks {
		last := i == len(chunks)-1
		if len(c) == 0 || len(c) > int(p.Max) || (!last && len(c) < int(p.Min)) {
			t.Fatalf("chunk %d/%d has %d bytes, want %d..%d", i, len(chunks), len(c), p.Min, p.Max)
		}
	}
}

// shortReader returns at most n bytes per Read.
type shortReader struct {
	r io.Reader
	n int
}

func (s *shortReader) Read(p []byte) (int, error) {
	return s.r.Read(p[:min(len(p), s.n)])
}

// errReader returns data, then err.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}
