package crypto

import (
	"bytes"
	"testing"
)

// allSuites lists every suite; aeadSuites those with secrecy and salts.
var (
	allSuites  = []Suite{AES256GCM, ChaCha20Poly1305, None}
	aeadSuites = []Suite{AES256GCM, ChaCha20Poly1305}
)

// fixedMaster returns the master key of the golden vectors: Enc = 00..1f,
// ID = 20..3f.
func fixedMaster() *MasterKey {
	var m MasterKey
	for i := range 32 {
		m.Enc[i] = byte(i)
		m.ID[i] = byte(32 + i)
	}
	return &m
}

// newTestKey returns a Key for suite s under a fresh random master key
// (the public one for None, as a repository would use).
func newTestKey(t testing.TB, s Suite) *Key {
	t.Helper()
	m := PublicMasterKey()
	if s != None {
		var err error
		if m, err = NewMasterKey(); err != nil {
			t.Fatal(err)
		}
	}
	k, err := NewKey(m, s)
	if err != nil {
		t.Fatalf("NewKey(%s): %v", s, err)
	}
	return k
}

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// mustOpen opens sealed and fails the test unless it gives want.
func mustOpen(t *testing.T, k *Key, sealed, ad, want []byte) {
	t.Helper()
	got, err := k.Open(nil, sealed, ad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Open returned %d bytes that differ from the %d-byte plaintext", len(got), len(want))
	}
}
