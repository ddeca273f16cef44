package archive

import (
	"bytes"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/gobak/gobak/pkg/fsmeta"
)

// FindParent returns the newest archive of list (as ListArchives sorts
// it, oldest first) made on hostname with the same set of paths (compared
// cleaned, in any order, repeats ignored), or nil. Its unchanged files can
// be reused by Create (CreateOptions.Parent).
func FindParent(list []Entry, hostname string, paths [][]byte) *Entry {
	want := pathSet(paths)
	for i := len(list) - 1; i >= 0; i-- {
		e := &list[i]
		if e.Record == nil || e.Record.Hostname != hostname {
			continue
		}
		if slices.Equal(pathSet(e.Record.Paths), want) {
			return e
		}
	}
	return nil
}

// pathSet returns paths cleaned, sorted and without repeats.
func pathSet(paths [][]byte) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		s := string(p)
		if s != "-" {
			s = filepath.Clean(s)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// parentDir is the listing of the parent archive's directory at the path
// being walked (nil: the parent has none). Create loads one listing per
// directory on the walk's stack, never the whole parent tree.
type parentDir []Node

// lookup returns the parent's node called name, or nil.
func (d parentDir) lookup(name []byte) *Node {
	i := sort.Search(len(d), func(i int) bool { return bytes.Compare(d[i].Name, name) >= 0 })
	if i < len(d) && bytes.Equal(d[i].Name, name) {
		return &d[i]
	}
	return nil
}

// loadParentDir loads the listing of the parent's directory node p; nil if
// p is not a directory or cannot be loaded (then nothing is reused below
// it, which is always correct).
func (c *creator) loadParentDir(p *Node) parentDir {
	if p == nil || p.Type != TypeDir || len(p.Subtree) != len(p.SubtreeID()) {
		return nil
	}
	nodes, err := LoadTree(c.ctx, c.cs, p.SubtreeID())
	if err != nil {
		return nil
	}
	return nodes
}

// parentRoot loads the parent archive's root listing.
func (c *creator) parentRoot() parentDir {
	if c.o.Parent == nil || c.o.Parent.Record == nil {
		return nil
	}
	nodes, err := LoadTree(c.ctx, c.cs, c.o.Parent.Record.TreeID())
	if err != nil {
		return nil
	}
	return nodes
}

// racyWindow is how close to the parent backup's start a file's ctime or
// mtime may be before the parent's record of it is distrusted. On kernels
// and file systems with coarse timestamps (Linux before 6.13, NFS, FAT) a
// file rewritten in the same timestamp tick just after the parent read it
// keeps its size, mtime and ctime; reusing the parent's content would then
// keep the stale content forever. Such files are read again instead.
const racyWindow = time.Second

// racy reports whether the parent's node p was recorded so close to the
// file's last change that it cannot be trusted (see racyWindow).
func (c *creator) racy(p *Node) bool {
	if c.o.Parent == nil || c.o.Parent.Time.IsZero() {
		return true
	}
	limit := c.o.Parent.Time.Add(-racyWindow).UnixNano()
	return p.Mtime >= limit || p.Ctime >= limit
}

// unchanged reports whether the file with metadata m is the parent's file
// p, judged by size, mtime, ctime and inode, so p's content can be reused
// without reading the file.
func unchanged(p *Node, m *fsmeta.Meta) bool {
	return p != nil && p.Type == TypeFile && m.Type == fsmeta.Regular &&
		len(p.Damaged) == 0 &&
		p.Size == uint64(m.Size) && p.Mtime == m.Mtime && p.Ctime == m.Ctime && p.Inode == m.Inode &&
		(len(p.Content) != 0 || len(p.ContentParts) != 0 || p.Size == 0)
}
