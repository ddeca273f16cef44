package chunker

import (
	"bytes"
	"testing"
)

// FuzzParseParams checks that ParseParams never panics and that what it
// accepts is valid and round-trips through String.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"524288,1048576,8388608", "512K,1M,8MiB", "19,20,23", "6,7,26",
		"", ",,", "1M,1M,1M", "x,y,z", "1G,2G,4G", "30,31,32", "buzhash,19,23,21,4095"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseParams(s)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseParams(%q) accepted invalid %+v: %v", s, p, err)
		}
		again, err := ParseParams(p.String())
		if err != nil || again != p {
			t.Fatalf("ParseParams(%q).String() = %q does not round-trip: %+v, %v", s, p.String(), again, err)
		}
	})
}

// FuzzPolUnmarshalText checks that decoding a polynomial never panics and
// that what it accepts is valid and round-trips.
func FuzzPolUnmarshalText(f *testing.F) {
	for _, s := range []string{"3da3358b4dc173", "0x3da3358b4dc173", "", "0x", "zz", "ffffffffffffffff", "20000000000001"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var p Pol
		if err := p.UnmarshalText(text); err != nil {
			return
		}
		if !p.Valid() {
			t.Fatalf("UnmarshalText(%q) accepted invalid %s", text, p)
		}
		b, _ := p.MarshalText()
		var q Pol
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Fatalf("%s does not round-trip: %s, %v", p, q, err)
		}
	})
}

// FuzzChunker chunks arbitrary data with tiny bounds and checks that the
// chunks reassemble to the input and respect the bounds.
func FuzzChunker(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte("hello"), uint8(1))
	f.Add(make([]byte, 3000), uint8(2))
	f.Add(pseudoRandom(5000, 1), uint8(3))
	p := Params{Min: 64, Avg: 256, Max: 1024}
	c := New(nil, testPol, p)
	f.Fuzz(func(t *testing.T, data []byte, readSize uint8) {
		c.Reset(&shortReader{bytes.NewReader(data), int(readSize) + 1})
		var chunks [][]byte
		for {
			chunk, err := c.Next(nil)
			if err != nil {
				break
			}
			chunks = append(chunks, chunk)
		}
		checkChunks(t, data, chunks, p)
	})
}
