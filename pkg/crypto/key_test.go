package crypto

import (
	"errors"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

func TestNewKeyErrors(t *testing.T) {
	if _, err := NewKey(nil, AES256GCM); err == nil {
		t.Error("NewKey(nil) succeeded")
	}
	for _, s := range []Suite{"", "AES256GCM", "xchacha"} {
		if _, err := NewKey(fixedMaster(), s); !errors.Is(err, ErrUnknownSuite) {
			t.Errorf("NewKey(suite %q) = %v, want ErrUnknownSuite", s, err)
		}
	}
}

func TestKeyAccessors(t *testing.T) {
	wantOverhead := map[Suite]int{AES256GCM: 40, ChaCha20Poly1305: 40, None: 16}
	for _, s := range allSuites {
		t.Run(string(s), func(t *testing.T) {
			m := fixedMaster()
			k, err := NewKey(m, s)
			if err != nil {
				t.Fatal(err)
			}
			if k.Suite() != s {
				t.Errorf("Suite() = %s", k.Suite())
			}
			if k.Overhead() != wantOverhead[s] {
				t.Errorf("Overhead() = %d, want %d", k.Overhead(), wantOverhead[s])
			}
			// NewKey copies m, and Master returns a copy.
			m.Enc[0] ^= 0xff
			if got := k.Master(); *got != *fixedMaster() {
				t.Error("Key follows changes to the caller's master key")
			}
			k.Master().ID[0] ^= 0xff
			if got := k.Master(); *got != *fixedMaster() {
				t.Error("Master() exposes the Key's own master key")
			}
		})
	}
}

func TestBlobID(t *testing.T) {
	data := []byte("gobak sealed format v1 golden vector\n")
	k1, _ := NewKey(fixedMaster(), AES256GCM)
	k1b, _ := NewKey(fixedMaster(), ChaCha20Poly1305) // same master, other suite
	other := fixedMaster()
	other.ID[31] ^= 1
	k2, _ := NewKey(other, AES256GCM)
	encOnly := fixedMaster()
	encOnly.Enc[0] ^= 1
	k3, _ := NewKey(encOnly, AES256GCM)
	pub, _ := NewKey(PublicMasterKey(), None)

	tests := []struct {
		name string
		k    *Key
		want string
	}{
		// Golden values, checked against an independent BLAKE3
		// implementation when pasted in.
		{"fixed", k1, "96fc9562ec2587aff67b098305b17497cd85b51aaad5713577690ed9142e00ec"},
		{"fixed other suite", k1b, "96fc9562ec2587aff67b098305b17497cd85b51aaad5713577690ed9142e00ec"},
		{"enc half differs", k3, "96fc9562ec2587aff67b098305b17497cd85b51aaad5713577690ed9142e00ec"},
		{"public", pub, "1b798ae880743c909d88ef7c6b96e681fae9af302bfe979b16ffd7541bdaf19e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 { // pooled hashers must be reset between uses
				if got := tt.k.BlobID(data).String(); got != tt.want {
					t.Fatalf("BlobID = %s, want %s", got, tt.want)
				}
			}
		})
	}
	if k2.BlobID(data) == k1.BlobID(data) {
		t.Error("BlobID does not depend on the ID key")
	}
	if k1.BlobID(data) == id.Hash(data) {
		t.Error("BlobID is not keyed")
	}
	if k1.BlobID(nil) == k1.BlobID([]byte{0}) {
		t.Error("BlobID(nil) == BlobID({0})")
	}
	// Sizes around the BLAKE3 chunk and the hasher's 8 KiB buffer.
	for _, n := range []int{1023, 1024, 1025, 8191, 8192, 8193, 1 << 20} {
		p := pattern(n)
		if a, b := k1.BlobID(p), k1.BlobID(p); a != b {
			t.Errorf("BlobID of %d bytes not stable", n)
		}
		if k1.BlobID(p) == k2.BlobID(p) {
			t.Errorf("BlobID of %d bytes equal under different keys", n)
		}
	}
}

func TestBlobIDDoesNotAllocate(t *testing.T) {
	k := newTestKey(t, AES256GCM)
	data := pattern(64 << 10)
	k.BlobID(data) // warm the pool
	if n := testing.AllocsPerRun(100, func() { k.BlobID(data) }); n != 0 {
		t.Fatalf("BlobID allocates %.1f times per call", n)
	}
}
