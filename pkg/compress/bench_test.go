package compress

import (
	"testing"
)

const benchChunkSize = 1 << 20

var benchSpecs = []string{"lz4", "s2", "zstd,1", "zstd,3"}

// benchChunks splits the real sample data into 1 MiB chunks.
func benchChunks(b *testing.B) [][]byte {
	b.Helper()
	data := loadRealData(b)
	var chunks [][]byte
	for len(data) >= benchChunkSize {
		chunks = append(chunks, data[:benchChunkSize])
		data = data[benchChunkSize:]
	}
	return chunks
}

// compressAll encodes every chunk and returns the encodings and the ratio
// of stored to raw bytes.
func compressAll(chunks [][]byte, spec Spec) ([][]byte, float64) {
	encs := make([][]byte, len(chunks))
	var raw, stored int
	for i, c := range chunks {
		encs[i] = Compress(nil, c, spec)
		raw += len(c)
		stored += len(encs[i])
	}
	return encs, float64(stored) / float64(raw)
}

// BenchmarkCompress compresses 1 MiB chunks of real data on one core and
// reports throughput (MB/s of plaintext) and the stored/raw ratio.
func BenchmarkCompress(b *testing.B) {
	chunks := benchChunks(b)
	for _, s := range benchSpecs {
		spec := mustSpec(b, s)
		b.Run(s, func(b *testing.B) {
			_, ratio := compressAll(chunks, spec)
			dst := make([]byte, 0, 2*benchChunkSize)
			b.SetBytes(benchChunkSize)
			for i := 0; b.Loop(); i++ {
				dst = Compress(dst[:0], chunks[i%len(chunks)], spec)
			}
			b.ReportMetric(ratio, "ratio")
		})
	}
}

// BenchmarkDecompress decompresses the encodings of 1 MiB chunks of real
// data and reports throughput (MB/s of plaintext).
func BenchmarkDecompress(b *testing.B) {
	chunks := benchChunks(b)
	for _, s := range benchSpecs {
		spec := mustSpec(b, s)
		b.Run(s, func(b *testing.B) {
			encs, ratio := compressAll(chunks, spec)
			dst := make([]byte, 0, benchChunkSize)
			b.SetBytes(benchChunkSize)
			for i := 0; b.Loop(); i++ {
				var err error
				if dst, err = Decompress(dst[:0], encs[i%len(encs)], benchChunkSize); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(ratio, "ratio")
		})
	}
}
