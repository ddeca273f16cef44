package compress

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestCodecGolden pins the on-disk codec byte values; changing one breaks
// every existing repository.
func TestCodecGolden(t *testing.T) {
	tests := []struct {
		c    Codec
		b    byte
		name string
	}{
		{None, 0, "none"}, {LZ4, 1, "lz4"}, {Zstd, 2, "zstd"}, {S2, 3, "s2"},
		{Codec(4), 4, "codec(4)"}, {Codec(255), 255, "codec(255)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if byte(tt.c) != tt.b || tt.c.String() != tt.name {
				t.Fatalf("codec %d (%s), want byte %d name %s", byte(tt.c), tt.c, tt.b, tt.name)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	big := append(textBytes(4<<20, 1), randomBytes(4<<20, 2)...) // 8 MiB, mixed
	inputs := []struct {
		name string
		data []byte
		// compressible: a compressing spec must pick its codec.
		compressible bool
	}{
		{"empty", nil, false},
		{"1byte", []byte{'x'}, false},
		{"random", randomBytes(64<<10, 3), false},
		{"text", textBytes(64<<10, 4), true},
		{"zeros", make([]byte, 1<<20), true},
		{"8MiB", big, true},
	}
	for _, s := range testSpecs {
		spec := mustSpec(t, s)
		for _, in := range inputs {
			t.Run(s+"/"+in.name, func(t *testing.T) {
				enc := roundTrip(t, in.data, spec)
				want := None
				if in.compressible {
					want = spec.Codec
				}
				if got := Codec(enc[0]); got != want {
					t.Fatalf("codec byte %s, want %s", got, want)
				}
			})
		}
	}
}

// TestZstdFrameHeader checks that every zstd encoding declares its content
// size, which Decompress relies on.
func TestZstdFrameHeader(t *testing.T) {
	for _, n := range []int{100, 255, 256, 1024, 1025, 70000, 9 << 20} {
		for _, level := range []int{1, 3, 7, 19} {
			t.Run(fmt.Sprintf("%d/%d", n, level), func(t *testing.T) {
				src := make([]byte, n)
				enc := Compress(nil, src, Spec{Codec: Zstd, Level: level})
				if Codec(enc[0]) != Zstd {
					t.Fatalf("codec %s, want zstd", Codec(enc[0]))
				}
				var h zstd.Header
				if err := h.Decode(enc[1:]); err != nil {
					t.Fatal(err)
				}
				if !h.HasFCS || h.FrameContentSize != uint64(n) {
					t.Fatalf("header content size %v/%d, want %d", h.HasFCS, h.FrameContentSize, n)
				}
			})
		}
	}
}

func TestAuto(t *testing.T) {
	random := randomBytes(256<<10, 5)
	text := textBytes(256<<10, 6)
	// Slightly compressible: lz4 saves about 2%, below auto's 3% bar.
	marginal := append(make([]byte, 6<<10), randomBytes(250<<10, 7)...)
	for _, c := range []string{"lz4", "s2", "zstd,3"} {
		auto := mustSpec(t, "auto,"+c)
		t.Run(c, func(t *testing.T) {
			if got := Codec(roundTrip(t, random, auto)[0]); got != None {
				t.Errorf("random data: codec %s, want none", got)
			}
			if got := Codec(roundTrip(t, text, auto)[0]); got != auto.Codec {
				t.Errorf("text: codec %s, want %s", got, auto.Codec)
			}
			if got := Codec(roundTrip(t, marginal, auto)[0]); got != None {
				t.Errorf("marginal data: codec %s, want none", got)
			}
		})
	}
	// Without auto, lz4 does store the marginal data compressed.
	if got := Codec(roundTrip(t, marginal, Default())[0]); got != LZ4 {
		t.Fatalf("lz4 on marginal data: codec %s, want lz4 (the auto test above proves nothing)", got)
	}
}

func TestCompressInvalidSpec(t *testing.T) {
	text := textBytes(10000, 8)
	tests := []struct {
		spec Spec
		want Codec
	}{
		{Spec{Codec: 7}, None},
		{Spec{Codec: 7, Auto: true}, None},
		{Spec{Codec: None, Auto: true}, None},
		{Spec{Codec: Zstd, Level: 99}, Zstd},
		{Spec{Codec: Zstd, Level: -5}, Zstd},
		{Spec{Codec: LZ4, Level: 3}, LZ4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.spec), func(t *testing.T) {
			if got := Codec(roundTrip(t, text, tt.spec)[0]); got != tt.want {
				t.Fatalf("codec %s, want %s", got, tt.want)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	inputs := [][]byte{textBytes(100<<10, 9), randomBytes(50<<10, 10), make([]byte, 50<<10)}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(testSpecs))
	for g := range 8 {
		wg.Go(func() {
			var enc, dec []byte
			for i, s := range testSpecs {
				spec, _ := ParseSpec(s)
				src := inputs[(g+i)%len(inputs)]
				enc = Compress(enc[:0], src, spec)
				var err error
				dec, err = Decompress(dec[:0], enc, len(src))
				if err != nil || !bytes.Equal(dec, src) {
					errs <- fmt.Errorf("goroutine %d spec %s: round trip failed: %v", g, s, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNoAllocs checks that pooled codec state is reused: with a big enough
// dst, compressing and decompressing do not allocate.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, s := range []string{"lz4", "s2", "zstd,1", "zstd,3", "auto,zstd,3"} {
		t.Run(s+"/text", func(t *testing.T) { noAllocs(t, textBytes(256<<10, 11), mustSpec(t, s)) })
		t.Run(s+"/random", func(t *testing.T) { noAllocs(t, randomBytes(256<<10, 12), mustSpec(t, s)) })
	}
}

// noAllocs asserts that a Compress/Decompress round trip into buffers of
// sufficient capacity does not allocate.
func noAllocs(t *testing.T, src []byte, spec Spec) {
	t.Helper()
	enc := make([]byte, 0, 2*len(src))
	dec := make([]byte, 0, len(src))
	enc = Compress(enc, src, spec) // warm the pools
	allocs := testing.AllocsPerRun(20, func() {
		enc = Compress(enc[:0], src, spec)
		dec, _ = Decompress(dec[:0], enc, len(src))
	})
	if !bytes.Equal(dec, src) {
		t.Fatal("round trip failed")
	}
	if allocs > 0 {
		t.Fatalf("%v allocations per round trip, want 0", allocs)
	}
}
