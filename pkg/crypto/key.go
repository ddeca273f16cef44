package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"

	"github.com/gobak/gobak/pkg/id"
	"github.com/zeebo/blake3"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrAuth is returned (wrapped) by [Key.Open] when a sealed message is too
// short, was altered, or was sealed under another key, suite or associated
// data.
var ErrAuth = errors.New("message authentication failed")

const (
	saltSize = 24 // random per-message salt of the AEAD suites
	tagSize  = 16 // AEAD tag, and the truncated BLAKE3 tag of None
)

// Key seals, opens and names repository data under one master key and
// suite. It is immutable after [NewKey] and safe for concurrent use by any
// number of goroutines. A Key must not be copied after first use; share the
// pointer.
type Key struct {
	suite      Suite
	master     MasterKey
	sealPrefix string // "gobak v1 seal " + suite + "\x00", before the salt
	newAEAD    func(key []byte) (cipher.AEAD, error)

	// Pools of keyed BLAKE3 hashers (about 9 KiB each), so BlobID and
	// subkey derivation do not allocate on the hot path.
	idHashers  sync.Pool // keyed with master.ID
	encHashers sync.Pool // keyed with master.Enc
}

// NewKey returns a Key for master key m and suite s. The Key keeps its own
// copy of m, so later changes to *m do not affect it. It returns an error
// wrapping [ErrUnknownSuite] for an unknown suite, and an error if the
// suite's cipher cannot be used in this process (for example AES-GCM with a
// caller-chosen nonce is refused in Go's FIPS 140-only mode).
func NewKey(m *MasterKey, s Suite) (*Key, error) {
	if m == nil {
		return nil, errors.New("new key: nil master key")
	}
	k := &Key{suite: s, master: *m, sealPrefix: "gobak v1 seal " + string(s) + "\x00"}
	switch s {
	case AES256GCM:
		k.newAEAD = newAESGCM
	case ChaCha20Poly1305:
		k.newAEAD = chacha20poly1305.New
	case None:
	default:
		return nil, fmt.Errorf("new key: %w", ErrUnknownSuite)
	}
	if k.newAEAD != nil {
		// Seal has no error return, so find out now whether the cipher
		// works at all; afterwards only the key bytes vary.
		var probe [32]byte
		if _, err := k.newAEAD(probe[:]); err != nil {
			return nil, fmt.Errorf("new key: suite %s: %w", s, err)
		}
	}
	encKey, idKey := k.master.Enc, k.master.ID
	k.idHashers.New = func() any { return mustKeyed(idKey[:]) }
	k.encHashers.New = func() any { return mustKeyed(encKey[:]) }
	return k, nil
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// mustKeyed returns a keyed BLAKE3 hasher; blake3.NewKeyed fails only for a
// key that is not 32 bytes, which callers rule out by construction.
func mustKeyed(key []byte) *blake3.Hasher {
	h, err := blake3.NewKeyed(key)
	if err != nil {
		panic("gobak/crypto: " + err.Error()) // unreachable: key is a [32]byte
	}
	return h
}

// Suite returns the suite the Key seals with.
func (k *Key) Suite() Suite { return k.suite }

// Master returns a copy of the Key's master key.
func (k *Key) Master() *MasterKey {
	m := k.master
	return &m
}

// Overhead returns the exact number of bytes [Key.Seal] adds to a
// plaintext: 40 (salt and tag) for the AEAD suites, 16 (tag) for None.
func (k *Key) Overhead() int {
	if k.suite == None {
		return tagSize
	}
	return saltSize + tagSize
}

// BlobID returns the ID of a blob: the keyed BLAKE3-256 of plaintext under
// the master key's ID half. It does not allocate.
func (k *Key) BlobID(plaintext []byte) id.ID {
	h := k.idHashers.Get().(*blake3.Hasher)
	h.Reset()
	_, _ = h.Write(plaintext)
	var out id.ID
	h.Sum(out[:0])
	k.idHashers.Put(h)
	return out
}
