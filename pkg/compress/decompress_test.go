package compress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// encodings returns a valid encoding of src for each codec.
func encodings(t testing.TB, src []byte) map[Codec][]byte {
	t.Helper()
	out := map[Codec][]byte{None: Compress(nil, src, Spec{})}
	for _, c := range []Codec{LZ4, S2, Zstd} {
		enc := Compress(nil, src, Spec{Codec: c})
		if Codec(enc[0]) != c {
			t.Fatalf("test data does not compress with %s", c)
		}
		out[c] = enc
	}
	return out
}

func TestDecompressMaxSize(t *testing.T) {
	src := textBytes(100000, 12)
	for c, enc := range encodings(t, src) {
		t.Run(c.String(), func(t *testing.T) {
			if got, err := Decompress(nil, enc, len(src)); err != nil || !bytes.Equal(got, src) {
				t.Fatalf("at the limit: %v", err)
			}
			for _, limit := range []int{len(src) - 1, 1000, 0, -1} {
				got, err := Decompress([]byte("keep"), enc, limit)
				wantCorrupt(t, err, fmt.Sprintf("limit %d", limit))
				if string(got) != "keep" {
					t.Fatalf("limit %d: dst changed to %q on error", limit, got)
				}
			}
		})
	}
}

// TestDecompressBomb checks that sizes declared in headers are rejected
// before the output buffer is allocated.
func TestDecompressBomb(t *testing.T) {
	const huge = 1 << 40
	lz4Bomb := binary.AppendUvarint([]byte{byte(LZ4)}, huge)
	s2Bomb := binary.AppendUvarint([]byte{byte(S2)}, 1<<32-1)
	zstdBomb := Compress(nil, make([]byte, 32<<20), Spec{Codec: Zstd, Level: 1})
	tests := []struct {
		name string
		src  []byte
	}{
		{"lz4", append(lz4Bomb, 0x1f, 0, 1, 0)},
		{"s2", append(s2Bomb, 0, 0, 0, 0)},
		{"zstd", zstdBomb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decompress(nil, tt.src, 1<<20)
			runtime.ReadMemStats(&after)
			wantCorrupt(t, err, "bomb")
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Fatalf("rejecting the bomb allocated %d bytes", n)
			}
		})
	}
}

func TestDecompressUnknownCodec(t *testing.T) {
	for b := 4; b < 256; b++ {
		_, err := Decompress(nil, []byte{byte(b), 1, 2, 3}, 100)
		wantCorrupt(t, err, fmt.Sprintf("codec byte %d", b))
	}
	_, err := Decompress(nil, nil, 100)
	wantCorrupt(t, err, "empty input")
}

// TestDecompressPrefixes decodes every prefix of a valid encoding: each
// must fail or return exactly the original data, never panic.
func TestDecompressPrefixes(t *testing.T) {
	src := append(textBytes(3000, 13), make([]byte, 1000)...)
	for c, enc := range encodings(t, src) {
		t.Run(c.String(), func(t *testing.T) {
			for n := 0; n < len(enc); n++ {
				got, err := Decompress(nil, enc[:n], len(src))
				if err == nil && !bytes.Equal(got, src) && c != None {
					t.Fatalf("prefix of %d/%d bytes decoded to %d wrong bytes", n, len(enc), len(got))
				}
				if err != nil {
					wantCorrupt(t, err, fmt.Sprintf("prefix %d", n))
				}
			}
		})
	}
}

// TestDecompressBitFlips damages valid encodings at random places.
func TestDecompressBitFlips(t *testing.T) {
	src := append(textBytes(20000, 14), randomBytes(2000, 15)...)
	r := rand.New(rand.NewPCG(1, 2))
	for c, enc := range encodings(t, src) {
		t.Run(c.String(), func(t *testing.T) {
			for range 500 {
				bad := bytes.Clone(enc)
				for range 1 + r.IntN(3) {
					bad[1+r.IntN(len(bad)-1)] ^= byte(1 + r.IntN(255))
				}
				got, err := Decompress(nil, bad, len(src))
				if err != nil {
					wantCorrupt(t, err, "bit flip")
				} else if len(got) > len(src) {
					t.Fatalf("decoded %d bytes past the limit %d", len(got), len(src))
				}
			}
		})
	}
}

func TestDecompressZstdFrames(t *testing.T) {
	src := textBytes(5000, 16)
	one := Compress(nil, src, Spec{Codec: Zstd})
	noFCS, err := zstd.NewWriter(nil, zstd.WithSingleSegment(false))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = noFCS.Close() }()
	tests := []struct {
		name string
		src  []byte
	}{
		{"two frames", append(bytes.Clone(one), one[1:]...)},
		{"trailing garbage", append(bytes.Clone(one), 1, 2, 3, 4)},
		{"no content size", append([]byte{byte(Zstd)}, noFCS.EncodeAll([]byte("tiny"), nil)...)},
		{"skippable frame", []byte{byte(Zstd), 0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decompress(nil, tt.src, 1<<20)
			wantCorrupt(t, err, tt.name)
			t.Log(err)
		})
	}
}

func TestDecompressMalformed(t *testing.T) {
	tests := []struct {
		name string
		src  []byte
	}{
		{"lz4 zero length", []byte("\x01\x00000000000000000000")}, // crashed lz4's decoder
		{"lz4 no header", []byte{byte(LZ4)}},
		{"lz4 overlong header", append([]byte{byte(LZ4)}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"lz4 short block", []byte{byte(LZ4), 10, 0x50, 'h', 'e', 'l', 'l', 'o'}},
		{"s2 no header", []byte{byte(S2)}},
		{"s2 length mismatch", []byte{byte(S2), 10, 0x10, 'h', 'e', 'l', 'l', 'o'}},
		{"zstd no header", []byte{byte(Zstd)}},
		{"zstd bad magic", []byte{byte(Zstd), 1, 2, 3, 4, 5, 6, 7, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decompress(nil, tt.src, 1<<20)
			wantCorrupt(t, err, tt.name)
		})
	}
}
