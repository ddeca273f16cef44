package chunker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	rchunker "github.com/restic/chunker"
)

// polDegree is the degree of every valid polynomial.
const polDegree = 53

// ErrInvalidPolynomial is wrapped by errors about a polynomial that is not
// an irreducible polynomial of degree 53 over GF(2).
var ErrInvalidPolynomial = errors.New("invalid chunker polynomial")

// Pol is a polynomial over GF(2), bit i holding the coefficient of x^i. A
// valid chunker polynomial is irreducible and of degree 53.
//
// Its text form, used for JSON too (as a string), is lowercase hex without
// a prefix, e.g. "3da3358b4dc173", the form restic's config uses.
type Pol uint64

// RandomPolynomial returns a random irreducible polynomial of degree 53,
// drawn from crypto/rand. It fails only if the system random source does.
func RandomPolynomial() (Pol, error) {
	p, err := rchunker.RandomPolynomial()
	if err != nil {
		return 0, fmt.Errorf("random chunker polynomial: %w", err)
	}
	return Pol(p), nil
}

// Valid reports whether p can be used as a chunker polynomial: degree 53 and
// irreducible. The irreducibility test takes about half a millisecond, so
// check once when loading a config, not per stream.
func (p Pol) Valid() bool {
	return p.degreeOK() && rchunker.Pol(p).Irreducible()
}

// degreeOK is the cheap part of Valid, checked by New.
func (p Pol) degreeOK() bool {
	return rchunker.Pol(p).Deg() == polDegree
}

// String returns the text form: lowercase hex without prefix.
func (p Pol) String() string {
	return strconv.FormatUint(uint64(p), 16)
}

// MarshalText implements encoding.TextMarshaler; see String.
func (p Pol) MarshalText() ([]byte, error) {
	return []byte(p.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts hex with an
// optional "0x" prefix and rejects anything that is not a valid polynomial
// (see Valid) with an error wrapping ErrInvalidPolynomial.
func (p *Pol) UnmarshalText(text []byte) error {
	s := string(text)
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	n, err := strconv.ParseUint(digits, 16, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not a hex number", ErrInvalidPolynomial, truncate(s))
	}
	q := Pol(n)
	if !q.Valid() {
		return fmt.Errorf("%w: %s is not an irreducible polynomial of degree %d", ErrInvalidPolynomial, q, polDegree)
	}
	*p = q
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
