package crypto

import (
	"fmt"
	"testing"
)

const benchSize = 1 << 20

func BenchmarkBlobID(b *testing.B) {
	k := newTestKey(b, AES256GCM)
	for _, n := range []int{4 << 10, benchSize} {
		b.Run(fmt.Sprintf("%dKiB", n>>10), func(b *testing.B) {
			data := pattern(n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				k.BlobID(data)
			}
		})
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, s := range allSuites {
		b.Run(string(s), func(b *testing.B) {
			k := newTestKey(b, s)
			pt := pattern(benchSize)
			dst := make([]byte, 0, benchSize+k.Overhead())
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				dst = k.Seal(dst[:0], pt, nil)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, s := range allSuites {
		b.Run(string(s), func(b *testing.B) {
			k := newTestKey(b, s)
			ad := []byte("0123456789abcdef0123456789abcdef")
			sealed := k.Seal(nil, pattern(benchSize), ad)
			dst := make([]byte, 0, benchSize)
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = k.Open(dst[:0], sealed, ad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
