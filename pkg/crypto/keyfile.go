package crypto

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gobak/gobak/pkg/id"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// KDFParams are the argon2id cost parameters of a key file.
type KDFParams struct {
	Time      uint32 // passes over memory, 1..100
	MemoryKiB uint32 // memory in KiB, 8*Threads..4 GiB
	Threads   uint8  // parallelism, at least 1
}

// DefaultKDF is the cost of new key files: RFC 9106's second recommended
// setting (3 passes over 64 MiB, 4 lanes), well under a second on a server.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// TestKDF is a deliberately weak cost for tests only, so they run fast. It
// offers no protection against guessing; never use it for a real repository.
var TestKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// Key file format constants.
const (
	keyFileVersion  = 1
	keyFileKDF      = "argon2id"
	keyFileSaltSize = 32
	keyNonceSize    = chacha20poly1305.NonceSizeX // 24
	keyDataSize     = keyNonceSize + MasterKeySize + tagSize
	keyFileAD       = "gobak key v1"

	maxKDFTime      = 100
	maxKDFMemoryKiB = 4 * 1024 * 1024 // 4 GiB
)

// ErrWrongPassphrase is returned (wrapped) by [KeyFile.Unwrap] when the
// passphrase does not open the key file. The same error results when the
// key file was altered or its repository ID does not match the one it was
// made for, since the AEAD cannot tell these cases apart.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ErrBadKeyFile is returned (wrapped, with what is wrong) for a key file
// that cannot be decoded or whose fields are out of range.
var ErrBadKeyFile = errors.New("malformed key file")

// KeyFile is the decoded form of a key file (keys/<id> in a repository): the
// master key sealed with XChaCha20-Poly1305 under a key derived from a
// passphrase by argon2id. It is a plain value, not safe for concurrent
// mutation.
type KeyFile struct {
	Version    int       `json:"version"`    // always 1
	Repository id.ID     `json:"repository"` // ID of the repository this key belongs to
	KDF        string    `json:"kdf"`        // always "argon2id"
	Time       uint32    `json:"time"`       // argon2id passes
	MemoryKiB  uint32    `json:"memory_kib"` // argon2id memory in KiB
	Threads    uint8     `json:"threads"`    // argon2id parallelism
	Salt       []byte    `json:"salt"`       // 32 random bytes for argon2id
	Data       []byte    `json:"data"`       // nonce[24] || sealed master key[64] || tag[16]
	Created    time.Time `json:"created"`
	Hostname   string    `json:"hostname,omitempty"`
	Username   string    `json:"username,omitempty"`
}

// validate checks the key file's fields against the rules of ParseKeyFile.
func (kf *KeyFile) validate() error {
	switch {
	case kf.Version != keyFileVersion:
		return fmt.Errorf("%w: unsupported version %d", ErrBadKeyFile, kf.Version)
	case kf.KDF != keyFileKDF:
		return fmt.Errorf("%w: unsupported kdf %q", ErrBadKeyFile, truncate(kf.KDF))
	case kf.Repository.IsNull():
		return fmt.Errorf("%w: no repository id", ErrBadKeyFile)
	case len(kf.Salt) != keyFileSaltSize:
		return fmt.Errorf("%w: salt has %d bytes, want %d", ErrBadKeyFile, len(kf.Salt), keyFileSaltSize)
	case len(kf.Data) != keyDataSize:
		return fmt.Errorf("%w: data has %d bytes, want %d", ErrBadKeyFile, len(kf.Data), keyDataSize)
	}
	return kf.params().validate()
}

func (kf *KeyFile) params() KDFParams {
	return KDFParams{Time: kf.Time, MemoryKiB: kf.MemoryKiB, Threads: kf.Threads}
}

// validate checks p against the limits every key file must respect.
func (p KDFParams) validate() error {
	switch {
	case p.Time == 0 || p.Time > maxKDFTime:
		return fmt.Errorf("%w: argon2id time %d not in 1..%d", ErrBadKeyFile, p.Time, maxKDFTime)
	case p.Threads == 0:
		return fmt.Errorf("%w: argon2id threads is 0", ErrBadKeyFile)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("%w: argon2id memory %d KiB not in %d..%d for %d threads",
			ErrBadKeyFile, p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemoryKiB, p.Threads)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// keyAD is the associated data that binds a sealed master key to its
// repository: "gobak key v1" || repository ID bytes.
func keyAD(repo id.ID) []byte {
	return append([]byte(keyFileAD), repo[:]...)
}

// kekAEAD derives the key-encryption key from the passphrase and returns
// the XChaCha20-Poly1305 AEAD for it.
func kekAEAD(passphrase, salt []byte, p KDFParams) (cipher.AEAD, error) {
	kek := argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
	defer clear(kek)
	return chacha20poly1305.NewX(kek)
}

// WrapMasterKey seals m under passphrase for repository repo with argon2id
// cost p, and returns the encoded key file: indented JSON ending in a
// newline. The salt and nonce come from crypto/rand; Created is the current
// time. hostname and username are recorded for information only (the
// caller supplies them; this package reads no environment). It returns an
// error wrapping [ErrBadKeyFile] if p or repo would make a key file that
// [ParseKeyFile] rejects. It takes as long as one argon2id run with cost p.
func WrapMasterKey(m *MasterKey, passphrase []byte, repo id.ID, p KDFParams, hostname, username string) ([]byte, error) {
	if m == nil {
		return nil, errors.New("wrap master key: nil master key")
	}
	kf := &KeyFile{
		Version:    keyFileVersion,
		Repository: repo,
		KDF:        keyFileKDF,
		Time:       p.Time,
		MemoryKiB:  p.MemoryKiB,
		Threads:    p.Threads,
		Salt:       make([]byte, keyFileSaltSize),
		Data:       make([]byte, keyNonceSize, keyDataSize),
		Created:    time.Now().Round(0), // drop the monotonic reading
		Hostname:   hostname,
		Username:   username,
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("wrap master key: %w", err)
	}
	if repo.IsNull() {
		return nil, fmt.Errorf("wrap master key: %w: no repository id", ErrBadKeyFile)
	}
	_, _ = rand.Read(kf.Salt) // never returns an error since Go 1.24
	_, _ = rand.Read(kf.Data) // the nonce
	aead, err := kekAEAD(passphrase, kf.Salt, p)
	if err != nil {
		return nil, fmt.Errorf("wrap master key: %w", err)
	}
	plain, _ := m.MarshalBinary()
	kf.Data = aead.Seal(kf.Data, kf.Data[:keyNonceSize], plain, keyAD(repo))
	clear(plain)
	out, err := kf.Marshal()
	if err != nil {
		return nil, fmt.Errorf("wrap master key: %w", err)
	}
	return out, nil
}

// ParseKeyFile decodes and checks a key file. It is strict: it rejects
// anything but version 1 and kdf "argon2id", a salt that is not 32 bytes,
// data that is not 24+64+16 bytes, a null repository ID, argon2id time 0 or
// above 100, threads 0, and memory below 8 KiB per thread or above 4 GiB.
// Every rejection wraps [ErrBadKeyFile] and says what is wrong. Unknown JSON
// fields are ignored. It does not check the passphrase; see [KeyFile.Unwrap].
func ParseKeyFile(data []byte) (*KeyFile, error) {
	kf := new(KeyFile)
	if err := json.Unmarshal(data, kf); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKeyFile, err)
	}
	if err := kf.validate(); err != nil {
		return nil, err
	}
	return kf, nil
}

// Unwrap derives the key-encryption key from passphrase and opens the
// master key. It returns an error wrapping [ErrWrongPassphrase] if the
// passphrase is wrong (or the file was altered, or its repository ID
// changed), and one wrapping [ErrBadKeyFile] if kf's fields are out of range.
// It takes as long as one argon2id run with the file's cost.
func (kf *KeyFile) Unwrap(passphrase []byte) (*MasterKey, error) {
	if err := kf.validate(); err != nil {
		return nil, fmt.Errorf("unwrap key: %w", err)
	}
	aead, err := kekAEAD(passphrase, kf.Salt, kf.params())
	if err != nil {
		return nil, fmt.Errorf("unwrap key: %w", err)
	}
	nonce, sealed := kf.Data[:keyNonceSize], kf.Data[keyNonceSize:]
	plain, err := aead.Open(nil, nonce, sealed, keyAD(kf.Repository))
	if err != nil {
		return nil, fmt.Errorf("unwrap key for repository %s: %w", kf.Repository.Short(), ErrWrongPassphrase)
	}
	m := new(MasterKey)
	err = m.UnmarshalBinary(plain)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("unwrap key: %w", err) // unreachable: length checked
	}
	return m, nil
}

// Marshal encodes kf as indented JSON ending in a newline, the form stored
// in the repository. It returns an error wrapping [ErrBadKeyFile] if kf
// would not pass [ParseKeyFile].
func (kf *KeyFile) Marshal() ([]byte, error) {
	if err := kf.validate(); err != nil {
		return nil, fmt.Errorf("marshal key file: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(kf); err != nil { // Encode adds the newline
		return nil, fmt.Errorf("marshal key file: %w", err)
	}
	return buf.Bytes(), nil
}
