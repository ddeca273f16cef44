package chunker

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkChunker chunks 64 MiB of real files with the default params on
// one core; the MB/s column is the chunking throughput.
func BenchmarkChunker(b *testing.B) {
	data := loadRealData(b)
	r := bytes.NewReader(data)
	c := New(r, testPol, DefaultParams())
	buf := make([]byte, 0, DefaultParams().Max)
	chunks := 0
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Reset(data)
		c.Reset(r)
		for {
			chunk, err := c.Next(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			buf = chunk
			chunks++
		}
	}
	b.ReportMetric(float64(len(data))/float64(chunks)*float64(b.N)/(1<<20), "MiB/chunk")
}
