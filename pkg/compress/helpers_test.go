package compress

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// testSpecs covers every codec, each zstd encoder level and every auto form.
var testSpecs = []string{
	"none", "lz4", "s2", "zstd,1", "zstd,3", "zstd,7", "zstd,19",
	"auto,lz4", "auto,s2", "auto,zstd,3",
}

func mustSpec(t testing.TB, s string) Spec {
	t.Helper()
	spec, err := ParseSpec(s)
	if err != nil {
		t.Fatalf("ParseSpec(%q): %v", s, err)
	}
	return spec
}

// randomBytes returns n incompressible bytes, the same for the same seed.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1, 2, 3})
	_, _ = r.Read(b)
	return b
}

// textBytes returns n bytes of word salad, which every codec compresses.
func textBytes(n int, seed uint64) []byte {
	words := strings.Fields(`the quick brown fox jumps over a lazy dog backup
		repository archive chunk compress deduplicate encrypt restore server
		file directory index pack blob tree snapshot prune check mount key`)
	r := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// roundTrip compresses src with spec after a prefix, checks the prefix is
// kept and the plaintext comes back, and returns the encoding alone.
func roundTrip(t *testing.T, src []byte, spec Spec) []byte {
	t.Helper()
	prefix := []byte("prefix")
	enc := Compress(bytes.Clone(prefix), src, spec)
	if !bytes.HasPrefix(enc, prefix) {
		t.Fatalf("Compress(%s) lost the dst prefix", spec)
	}
	enc = enc[len(prefix):]
	if len(enc) > len(src)+1 {
		t.Fatalf("Compress(%s) of %d bytes gave %d bytes, want <= %d", spec, len(src), len(enc), len(src)+1)
	}
	got, err := Decompress(bytes.Clone(prefix), enc, len(src))
	if err != nil {
		t.Fatalf("Decompress(%s encoding, codec %s): %v", spec, Codec(enc[0]), err)
	}
	if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], src) {
		t.Fatalf("Decompress(%s encoding) returned different data (%d bytes, want %d)", spec, len(got)-len(prefix), len(src))
	}
	return enc
}

// wantCorrupt fails unless err wraps ErrCorrupt.
func wantCorrupt(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: got error %v, want one wrapping ErrCorrupt", what, err)
	}
}
