package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestMasterKeyMarshalRoundTrip(t *testing.T) {
	m := fixedMaster()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != MasterKeySize || !bytes.Equal(b[:32], m.Enc[:]) || !bytes.Equal(b[32:], m.ID[:]) {
		t.Fatalf("MarshalBinary = %x, want Enc||ID", b)
	}
	var got MasterKey
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got != *m {
		t.Fatalf("round trip changed the key")
	}
}

func TestMasterKeyUnmarshalBadLength(t *testing.T) {
	for _, n := range []int{0, 1, 32, 63, 65, 128} {
		m := *fixedMaster()
		before := m
		if err := m.UnmarshalBinary(make([]byte, n)); !errors.Is(err, ErrBadMasterKey) {
			t.Errorf("UnmarshalBinary(%d bytes) = %v, want ErrBadMasterKey", n, err)
		}
		if m != before {
			t.Errorf("UnmarshalBinary(%d bytes) changed the key on error", n)
		}
	}
}

func TestNewMasterKeyRandom(t *testing.T) {
	a, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if *a == *b || a.Enc == a.ID || a.Enc == ([32]byte{}) {
		t.Fatalf("NewMasterKey is not random: %x %x", a.Enc, b.Enc)
	}
}

// TestPublicMasterKeyGolden pins the public master key: changing it would
// change every blob ID of every "none" repository. The value was checked
// against an independent BLAKE3 implementation when it was pasted in.
func TestPublicMasterKeyGolden(t *testing.T) {
	const want = "dc0f164b09a1770f697d04f861044b7052afe7470400bcb94ae81680664ace3f" +
		"fb4e793f1736a4d3256f04f736a19787389d8342b63c0d93da9f4c8bec36687c"
	b, _ := PublicMasterKey().MarshalBinary()
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("PublicMasterKey = %s\nwant             %s", got, want)
	}
	// Callers get copies: changing one must not change the next.
	p := PublicMasterKey()
	p.Enc[0] ^= 1
	if b2, _ := PublicMasterKey().MarshalBinary(); !bytes.Equal(b2, b) {
		t.Fatal("PublicMasterKey shares state between callers")
	}
}
