package id

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/zeebo/blake3"
)

// Size is the length of an ID in bytes.
const Size = 32

// ID identifies a blob or a repository file. The zero value is the null ID.
type ID [Size]byte

// ErrInvalid is returned (wrapped) by Parse for text that is not an ID.
var ErrInvalid = errors.New("invalid id")

// Hash returns the unkeyed BLAKE3-256 of data. Repository files (packs,
// index files, archive records, key files) are named by the Hash of their
// bytes, so they can be verified without the repository key.
func Hash(data []byte) ID {
	return ID(blake3.Sum256(data))
}

// Parse decodes the 64-character lowercase or uppercase hex form of an ID.
func Parse(s string) (ID, error) {
	var out ID
	if len(s) != 2*Size {
		return out, fmt.Errorf("%w: %q has length %d, want %d", ErrInvalid, truncate(s), len(s), 2*Size)
	}
	if _, err := hex.Decode(out[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("%w: %q: not hex", ErrInvalid, truncate(s))
	}
	return out, nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// String returns the 64-character lowercase hex form of the ID.
func (i ID) String() string {
	return hex.EncodeToString(i[:])
}

// Short returns the first 8 hex characters, for messages.
func (i ID) Short() string {
	return hex.EncodeToString(i[:4])
}

// IsNull reports whether the ID is all zero bytes.
func (i ID) IsNull() bool {
	return i == ID{}
}

// Compare orders IDs bytewise; it returns -1, 0 or +1.
func (i ID) Compare(o ID) int {
	return bytes.Compare(i[:], o[:])
}

// MarshalText implements encoding.TextMarshaler (hex form).
func (i ID) MarshalText() ([]byte, error) {
	return []byte(i.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (hex form).
func (i *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// Set is a set of IDs. The zero value is not usable; make one with NewSet.
type Set map[ID]struct{}

// NewSet returns a set holding ids.
func NewSet(ids ...ID) Set {
	s := make(Set, len(ids))
	for _, v := range ids {
		s[v] = struct{}{}
	}
	return s
}

// Has reports whether v is in the set.
func (s Set) Has(v ID) bool {
	_, ok := s[v]
	return ok
}

// Insert adds v to the set.
func (s Set) Insert(v ID) {
	s[v] = struct{}{}
}

// Delete removes v from the set.
func (s Set) Delete(v ID) {
	delete(s, v)
}

// Sorted returns the members in ascending byte order.
func (s Set) Sorted() []ID {
	out := make([]ID, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	slices.SortFunc(out, ID.Compare)
	return out
}

// BlobType tells data blobs (file content) from tree blobs (directories).
// It is recorded in pack trailers and index files as one byte.
type BlobType uint8

const (
	// DataBlob is a chunk of file content.
	DataBlob BlobType = 1
	// TreeBlob is an encoded directory listing.
	TreeBlob BlobType = 2
)

// String returns "data", "tree" or "blobtype(N)".
func (t BlobType) String() string {
	switch t {
	case DataBlob:
		return "data"
	case TreeBlob:
		return "tree"
	}
	return fmt.Sprintf("blobtype(%d)", uint8(t))
}

// Valid reports whether t is DataBlob or TreeBlob.
func (t BlobType) Valid() bool { return t == DataBlob || t == TreeBlob }
