package archive

import (
	"bytes"
	"fmt"

	"github.com/gobak/gobak/pkg/id"
)

// NodeType is the kind of a node (frozen values).
type NodeType uint8

// Node types.
const (
	TypeFile     NodeType = 1
	TypeDir      NodeType = 2
	TypeSymlink  NodeType = 3
	TypeFIFO     NodeType = 4
	TypeCharDev  NodeType = 5
	TypeBlockDev NodeType = 6
)

// String returns a short name: "file", "dir", "symlink", "fifo", "chardev",
// "blockdev".
func (t NodeType) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	case TypeFIFO:
		return "fifo"
	case TypeCharDev:
		return "chardev"
	case TypeBlockDev:
		return "blockdev"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Valid reports whether t is a known node type.
func (t NodeType) Valid() bool { return t >= TypeFile && t <= TypeBlockDev }

// Xattr is one extended attribute; POSIX ACLs are the xattrs
// system.posix_acl_access and system.posix_acl_default.
type Xattr struct {
	_     struct{} `cbor:",toarray"`
	Name  []byte
	Value []byte
}

// Extent is a piece of a file's content: Size bytes that are either the
// data blob ID, or, when ID is empty, a hole (zeros not stored).
type Extent struct {
	_    struct{} `cbor:",toarray"`
	ID   []byte   // 32 bytes, or empty for a hole
	Size uint64
}

// IsHole reports whether the extent is a run of zeros with no blob.
func (e Extent) IsHole() bool { return len(e.ID) == 0 }

// BlobID returns the extent's blob ID (the zero ID for a hole).
func (e Extent) BlobID() id.ID {
	var out id.ID
	copy(out[:], e.ID)
	return out
}

// DataExtent returns an extent for a stored blob.
func DataExtent(b id.ID, size uint64) Extent { return Extent{ID: b[:], Size: size} }

// HoleExtent returns an extent for size bytes of zeros.
func HoleExtent(size uint64) Extent { return Extent{Size: size} }

// Node is one entry of a directory. Which fields are set depends on Type.
// Times are nanoseconds since the Unix epoch.
type Node struct {
	Name   []byte   `cbor:"1,keyasint"`
	Type   NodeType `cbor:"2,keyasint"`
	Mode   uint32   `cbor:"3,keyasint"` // st_mode & 07777
	UID    uint32   `cbor:"4,keyasint"`
	GID    uint32   `cbor:"5,keyasint"`
	User   []byte   `cbor:"6,keyasint,omitempty"`
	Group  []byte   `cbor:"7,keyasint,omitempty"`
	Mtime  int64    `cbor:"8,keyasint"`
	Atime  int64    `cbor:"9,keyasint"`
	Ctime  int64    `cbor:"10,keyasint"`
	Size   uint64   `cbor:"11,keyasint,omitempty"`
	Inode  uint64   `cbor:"12,keyasint,omitempty"`
	Device uint64   `cbor:"13,keyasint,omitempty"`
	Nlink  uint64   `cbor:"14,keyasint,omitempty"`
	Rdev   uint64   `cbor:"15,keyasint,omitempty"`
	// LinkTarget is a symlink's target.
	LinkTarget []byte  `cbor:"16,keyasint,omitempty"`
	Xattrs     []Xattr `cbor:"17,keyasint,omitempty"` // sorted by name
	// Content lists a regular file's extents, in order; their sizes add
	// up to Size. Empty when ContentParts is used.
	Content []Extent `cbor:"18,keyasint,omitempty"`
	// ContentParts names tree blobs that each hold an ExtentList, for
	// files with more extents than fit in one tree blob.
	ContentParts [][]byte `cbor:"19,keyasint,omitempty"`
	// Subtree is a directory's tree blob ID.
	Subtree []byte `cbor:"20,keyasint,omitempty"`
	// Damaged lists byte ranges [start, end) of the file whose data was
	// lost (set by check --repair; extracted as zeros with a warning).
	Damaged []uint64 `cbor:"21,keyasint,omitempty"`
}

// SubtreeID returns the directory's tree ID.
func (n *Node) SubtreeID() id.ID {
	var out id.ID
	copy(out[:], n.Subtree)
	return out
}

// SetSubtree sets the directory's tree ID.
func (n *Node) SetSubtree(t id.ID) { n.Subtree = append([]byte(nil), t[:]...) }

// validate checks the invariants a decoded node must satisfy.
func (n *Node) validate() error {
	switch {
	case len(n.Name) == 0:
		return fmt.Errorf("node with empty name")
	case bytes.IndexByte(n.Name, '/') >= 0 || bytes.IndexByte(n.Name, 0) >= 0:
		return fmt.Errorf("node name %q contains '/' or NUL", n.Name)
	case string(n.Name) == "." || string(n.Name) == "..":
		return fmt.Errorf("node name %q is not allowed", n.Name)
	case !n.Type.Valid():
		return fmt.Errorf("node %q: unknown type %d", n.Name, n.Type)
	case n.Mode&^0o7777 != 0:
		return fmt.Errorf("node %q: mode %o has bits outside 07777", n.Name, n.Mode)
	}
	if n.Type == TypeDir && len(n.Subtree) != id.Size {
		return fmt.Errorf("directory %q: subtree id has %d bytes", n.Name, len(n.Subtree))
	}
	if n.Type != TypeDir && len(n.Subtree) != 0 {
		return fmt.Errorf("node %q: %s with a subtree", n.Name, n.Type)
	}
	if n.Type != TypeFile && (len(n.Content) != 0 || len(n.ContentParts) != 0) {
		return fmt.Errorf("node %q: %s with content", n.Name, n.Type)
	}
	if len(n.Content) != 0 && len(n.ContentParts) != 0 {
		return fmt.Errorf("node %q: both content and content parts", n.Name)
	}
	var total uint64
	for _, e := range n.Content {
		if len(e.ID) != 0 && len(e.ID) != id.Size {
			return fmt.Errorf("node %q: extent id of %d bytes", n.Name, len(e.ID))
		}
		if total+e.Size < total {
			return fmt.Errorf("node %q: extent sizes overflow", n.Name)
		}
		total += e.Size
	}
	if len(n.Content) != 0 && total != n.Size {
		return fmt.Errorf("node %q: extents add up to %d, size is %d", n.Name, total, n.Size)
	}
	for _, p := range n.ContentParts {
		if len(p) != id.Size {
			return fmt.Errorf("node %q: content part id of %d bytes", n.Name, len(p))
		}
	}
	if len(n.Damaged)%2 != 0 {
		return fmt.Errorf("node %q: odd damaged range list", n.Name)
	}
	for i := 1; i < len(n.Xattrs); i++ {
		if bytes.Compare(n.Xattrs[i-1].Name, n.Xattrs[i].Name) >= 0 {
			return fmt.Errorf("node %q: xattrs not sorted or duplicated", n.Name)
		}
	}
	return nil
}
