package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gobak/gobak/pkg/id"
)

// DiffKind says how an entry differs between two archives.
type DiffKind uint8

// Diff kinds.
const (
	DiffAdded    DiffKind = 1 // only in the new archive
	DiffRemoved  DiffKind = 2 // only in the old archive
	DiffModified DiffKind = 3 // in both, with the Changes listed
)

// String returns "added", "removed" or "modified".
func (k DiffKind) String() string {
	switch k {
	case DiffAdded:
		return "added"
	case DiffRemoved:
		return "removed"
	case DiffModified:
		return "modified"
	}
	return fmt.Sprintf("DiffKind(%d)", uint8(k))
}

// Change is a set of differences between two versions of an entry.
type Change uint16

// Changes Diff reports. Atime, ctime, inode, device and link count are
// never compared: they change without the entry changing.
const (
	ChangeType    Change = 1 << iota // file, directory, symlink... differ
	ChangeContent                    // a file's extent list differs
	ChangeMode                       // permission bits (st_mode & 07777)
	ChangeOwner                      // uid, gid, user or group name
	ChangeMtime                      // modification time
	ChangeXattrs                     // extended attributes or ACLs
	ChangeLink                       // symlink target
	ChangeRdev                       // device number
)

// DiffEntry is one difference reported by Diff.
type DiffEntry struct {
	// Path is the entry's archive path.
	Path []byte
	Kind DiffKind
	// Old and New are the entry in the old and the new archive; Old is
	// nil for DiffAdded, New is nil for DiffRemoved.
	Old, New *Node
	// Changes is set for DiffModified.
	Changes Change
	// AddedBytes and RemovedBytes are, for a content change, the sizes of
	// the chunks only the new (old) version has, as borg reports them; for
	// an added (removed) file, its size.
	AddedBytes, RemovedBytes uint64
}

// Diff compares the trees a (old) and b (new), typically two archives'
// root trees, and calls fn for every entry that was added, removed or
// changed, depth-first in name order, a directory before its content.
// Every entry of an added or removed directory is reported too. Only
// entries selected by paths (see NewSelection) are reported.
//
// Directories whose tree IDs are equal are identical and are skipped
// without loading their trees. File content is compared by extent list
// (chunk IDs and sizes), without reading data.
//
// fn is called from the calling goroutine only. fn returning SkipAll ends
// Diff with nil; any other error from fn ends it and is returned. A tree
// or extent list that cannot be loaded ends Diff with an error naming its
// directory (or entry); nesting deeper than MaxDepth gives ErrMalformed.
func Diff(ctx context.Context, cs ChunkStore, a, b id.ID, paths [][]byte, fn func(DiffEntry) error) error {
	d := &differ{ctx: ctx, cs: cs, sel: NewSelection(paths), fn: fn}
	err := d.trees(a, b, nil, 0)
	if errors.Is(err, SkipAll) {
		return nil
	}
	return err
}

type differ struct {
	ctx context.Context
	cs  ChunkStore
	sel Selection
	fn  func(DiffEntry) error
}

// trees compares the directories with trees a and b at prefix.
func (d *differ) trees(a, b id.ID, prefix []byte, depth int) error {
	if a == b {
		return nil
	}
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if depth >= MaxDepth {
		return fmt.Errorf("directory %q: %w: trees nest deeper than %d", prefix, ErrMalformed, MaxDepth)
	}
	an, err := d.load(a, prefix)
	if err != nil {
		return err
	}
	bn, err := d.load(b, prefix)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(an) || j < len(bn) {
		var c int
		switch {
		case i == len(an):
			c = 1
		case j == len(bn):
			c = -1
		default:
			c = bytes.Compare(an[i].Name, bn[j].Name)
		}
		switch {
		case c < 0:
			err = d.one(&an[i], DiffRemoved, prefix, depth)
			i++
		case c > 0:
			err = d.one(&bn[j], DiffAdded, prefix, depth)
			j++
		default:
			err = d.both(&an[i], &bn[j], prefix, depth)
			i++
			j++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *differ) load(t id.ID, prefix []byte) ([]Node, error) {
	nodes, err := LoadTree(d.ctx, d.cs, t)
	if err != nil {
		return nil, fmt.Errorf("directory %q: %w", prefix, err)
	}
	return nodes, nil
}

// one reports n, which only one side has, and everything below it.
func (d *differ) one(n *Node, kind DiffKind, prefix []byte, depth int) error {
	p := childPath(prefix, n.Name)
	sel, descend := d.sel.Match(p)
	if sel {
		e := DiffEntry{Path: p, Kind: kind}
		if kind == DiffAdded {
			e.New, e.AddedBytes = n, fileSize(n)
		} else {
			e.Old, e.RemovedBytes = n, fileSize(n)
		}
		if err := d.fn(e); err != nil {
			return err
		}
	}
	if n.Type != TypeDir || !descend {
		return nil
	}
	return d.subtree(n.SubtreeID(), kind, p, depth+1)
}

// subtree reports every entry of the tree t as added or removed.
func (d *differ) subtree(t id.ID, kind DiffKind, prefix []byte, depth int) error {
	if depth >= MaxDepth {
		return fmt.Errorf("directory %q: %w: trees nest deeper than %d", prefix, ErrMalformed, MaxDepth)
	}
	nodes, err := d.load(t, prefix)
	if err != nil {
		return err
	}
	for i := range nodes {
		if err := d.one(&nodes[i], kind, prefix, depth); err != nil {
			return err
		}
	}
	return nil
}

// both compares an entry both sides have.
func (d *differ) both(a, b *Node, prefix []byte, depth int) error {
	p := childPath(prefix, a.Name)
	sel, descend := d.sel.Match(p)
	if sel {
		e := DiffEntry{Path: p, Kind: DiffModified, Old: a, New: b}
		var err error
		if e.Changes, e.AddedBytes, e.RemovedBytes, err = d.compare(a, b); err != nil {
			return fmt.Errorf("%q: %w", p, err)
		}
		if e.Changes != 0 {
			if err := d.fn(e); err != nil {
				return err
			}
		}
	}
	if !descend {
		return nil
	}
	switch {
	case a.Type == TypeDir && b.Type == TypeDir:
		return d.trees(a.SubtreeID(), b.SubtreeID(), p, depth+1)
	case a.Type == TypeDir:
		return d.subtree(a.SubtreeID(), DiffRemoved, p, depth+1)
	case b.Type == TypeDir:
		return d.subtree(b.SubtreeID(), DiffAdded, p, depth+1)
	}
	return nil
}

// compare returns how b differs from a and, for content, the bytes of
// chunks only b (added) or only a (removed) has.
func (d *differ) compare(a, b *Node) (c Change, added, removed uint64, err error) {
	if a.Type != b.Type {
		c |= ChangeType
	}
	if a.Mode != b.Mode {
		c |= ChangeMode
	}
	if a.UID != b.UID || a.GID != b.GID || !bytes.Equal(a.User, b.User) || !bytes.Equal(a.Group, b.Group) {
		c |= ChangeOwner
	}
	if a.Mtime != b.Mtime {
		c |= ChangeMtime
	}
	if !slices.EqualFunc(a.Xattrs, b.Xattrs, func(x, y Xattr) bool {
		return bytes.Equal(x.Name, y.Name) && bytes.Equal(x.Value, y.Value)
	}) {
		c |= ChangeXattrs
	}
	if !bytes.Equal(a.LinkTarget, b.LinkTarget) {
		c |= ChangeLink
	}
	if a.Rdev != b.Rdev {
		c |= ChangeRdev
	}
	switch {
	case a.Type == TypeFile && b.Type == TypeFile:
		changed, ad, rm, err := d.content(a, b)
		if err != nil {
			return 0, 0, 0, err
		}
		if changed {
			c |= ChangeContent
			added, removed = ad, rm
		}
	case c&ChangeType != 0:
		added, removed = fileSize(b), fileSize(a)
	}
	return c, added, removed, nil
}

// content compares two files' extent lists.
func (d *differ) content(a, b *Node) (changed bool, added, removed uint64, err error) {
	if a.Size == b.Size && extentsEqual(a.Content, b.Content) &&
		slices.EqualFunc(a.ContentParts, b.ContentParts, bytes.Equal) {
		return false, 0, 0, nil
	}
	ea, err := Extents(d.ctx, d.cs, a)
	if err != nil {
		return false, 0, 0, err
	}
	eb, err := Extents(d.ctx, d.cs, b)
	if err != nil {
		return false, 0, 0, err
	}
	if extentsEqual(ea, eb) {
		return false, 0, 0, nil
	}
	return true, uniqueBytes(eb, ea), uniqueBytes(ea, eb), nil
}

func extentsEqual(a, b []Extent) bool {
	return slices.EqualFunc(a, b, func(x, y Extent) bool {
		return x.Size == y.Size && bytes.Equal(x.ID, y.ID)
	})
}

// uniqueBytes sums the sizes of x's data extents whose chunk y lacks.
func uniqueBytes(x, y []Extent) uint64 {
	have := make(map[id.ID]bool, len(y))
	for _, e := range y {
		if !e.IsHole() {
			have[e.BlobID()] = true
		}
	}
	var n uint64
	for _, e := range x {
		if !e.IsHole() && !have[e.BlobID()] {
			n += e.Size
		}
	}
	return n
}

// fileSize is a regular file's size, 0 for other types.
func fileSize(n *Node) uint64 {
	if n.Type == TypeFile {
		return n.Size
	}
	return 0
}
