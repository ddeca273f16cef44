package crypto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/zeebo/blake3"
)

// MasterKeySize is the length of a marshaled [MasterKey]: Enc || ID.
const MasterKeySize = 64

// ErrBadMasterKey is returned (wrapped) by [MasterKey.UnmarshalBinary] for
// input that is not exactly [MasterKeySize] bytes.
var ErrBadMasterKey = errors.New("malformed master key")

// MasterKey is the secret of a repository. Enc is the 32-byte root of every
// encryption and authentication key ([Key.Seal], [Key.Open]); ID is the
// 32-byte key of the keyed BLAKE3-256 that names blobs ([Key.BlobID]).
// It is a plain value: copy it freely, but do not mutate one that a [Key]
// may still be using (NewKey takes its own copy).
type MasterKey struct {
	Enc [32]byte
	ID  [32]byte
}

// NewMasterKey returns a fresh random master key from crypto/rand. The error
// is always nil: since Go 1.24 crypto/rand.Read never fails (the program
// aborts if the operating system cannot supply randomness). It is kept so
// callers need not change if that ever becomes fallible again.
func NewMasterKey() (*MasterKey, error) {
	var buf [MasterKeySize]byte
	_, _ = rand.Read(buf[:]) // never returns an error since Go 1.24
	m := new(MasterKey)
	if err := m.UnmarshalBinary(buf[:]); err != nil {
		return nil, err
	}
	clear(buf[:])
	return m, nil
}

// Context strings for the public master key. They are part of the frozen
// format: changing them changes every blob ID of every "none" repository.
const (
	publicEncContext = "gobak v1 public master key: encryption"
	publicIDContext  = "gobak v1 public master key: blob id"
)

var publicMaster = sync.OnceValue(func() MasterKey {
	var m MasterKey
	blake3.DeriveKey(publicEncContext, nil, m.Enc[:])
	blake3.DeriveKey(publicIDContext, nil, m.ID[:])
	return m
})

// PublicMasterKey returns the fixed, publicly known master key used by
// repositories with suite [None], so their blob IDs and tags still verify.
// Both halves come from blake3.DeriveKey over constant context strings with
// empty key material. Every call returns a new copy.
func PublicMasterKey() *MasterKey {
	m := publicMaster()
	return &m
}

// MarshalBinary returns the 64-byte form Enc || ID. It never fails.
func (m *MasterKey) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, MasterKeySize)
	out = append(out, m.Enc[:]...)
	return append(out, m.ID[:]...), nil
}

// UnmarshalBinary sets m from the 64-byte form Enc || ID. Any other length
// returns an error wrapping [ErrBadMasterKey] and leaves m unchanged.
func (m *MasterKey) UnmarshalBinary(data []byte) error {
	if len(data) != MasterKeySize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadMasterKey, len(data), MasterKeySize)
	}
	copy(m.Enc[:], data[:32])
	copy(m.ID[:], data[32:])
	return nil
}
