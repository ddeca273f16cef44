package compress

import (
	"bytes"
	"errors"
	"testing"
)

const fuzzMaxSize = 1 << 20

// FuzzDecompress feeds arbitrary bytes to Decompress. It must never panic,
// must only fail with ErrCorrupt, must respect maxSize, and whatever it
// accepts must survive a Compress/Decompress round trip.
func FuzzDecompress(f *testing.F) {
	for _, src := range [][]byte{nil, []byte("a"), textBytes(3000, 20), make([]byte, 5000), randomBytes(300, 21)} {
		for _, s := range []string{"none", "lz4", "s2", "zstd,1", "zstd,3", "zstd,19"} {
			spec, err := ParseSpec(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(Compress(nil, src, spec))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{9, 1, 2, 3})
	f.Add([]byte{byte(LZ4), 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{byte(S2), 0x80})
	f.Add([]byte{byte(Zstd), 0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := Decompress(nil, src, fuzzMaxSize)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(got) > fuzzMaxSize {
			t.Fatalf("decoded %d bytes, limit %d", len(got), fuzzMaxSize)
		}
		if Codec(src[0]) == None && !bytes.Equal(got, src[1:]) {
			t.Fatal("none codec did not return its payload")
		}
		for _, spec := range []Spec{{Codec: LZ4}, {Codec: S2}, {Codec: Zstd, Level: 1}} {
			again, err := Decompress(nil, Compress(nil, got, spec), len(got))
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("re-encoding with %s does not round-trip: %v", spec, err)
			}
		}
	})
}
