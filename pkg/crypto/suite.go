package crypto

import (
	"errors"
	"fmt"
)

// Suite names the algorithm that seals repository data. It is recorded in
// the repository config and never changes for the life of a repository.
type Suite string

const (
	// AES256GCM is AES-256-GCM with a per-message subkey; the default, and
	// the fastest choice on CPUs with AES-NI or equivalent instructions.
	AES256GCM Suite = "aes-256-gcm"
	// ChaCha20Poly1305 is ChaCha20-Poly1305 (RFC 8439) with a per-message
	// subkey; the better choice on CPUs without AES instructions.
	ChaCha20Poly1305 Suite = "chacha20-poly1305"
	// None keeps data in the clear but authenticated with a keyed BLAKE3 tag
	// under the public master key: it detects corruption and swapped blobs
	// but offers no secrecy and no protection against a deliberate forger.
	None Suite = "none"
)

// ErrUnknownSuite is returned (wrapped) by [ParseSuite] and [NewKey] for a
// suite name this version does not know.
var ErrUnknownSuite = errors.New("unknown encryption suite")

// ParseSuite returns the Suite named s. Names are matched exactly (they are
// lower case); anything else returns an error wrapping [ErrUnknownSuite].
func ParseSuite(s string) (Suite, error) {
	switch v := Suite(s); v {
	case AES256GCM, ChaCha20Poly1305, None:
		return v, nil
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownSuite, s)
}

// String returns the suite's name as recorded in the repository config.
func (s Suite) String() string { return string(s) }
