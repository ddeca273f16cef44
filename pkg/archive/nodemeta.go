package archive

import (
	"github.com/gobak/gobak/pkg/fsmeta"
)

// restoreMeta converts a node into the metadata fsmeta.Apply, Mknod and
// CreateSymlink take when restoring it. The node types and fsmeta's types
// share their numbers, but the mapping is spelled out so neither depends on
// the other's values.
func restoreMeta(n *Node) *fsmeta.Meta {
	m := &fsmeta.Meta{
		Type:       restoreType(n.Type),
		Mode:       n.Mode & 0o7777,
		UID:        n.UID,
		GID:        n.GID,
		User:       string(n.User),
		Group:      string(n.Group),
		Size:       int64(n.Size),
		Mtime:      n.Mtime,
		Atime:      n.Atime,
		Ctime:      n.Ctime,
		Inode:      n.Inode,
		Device:     n.Device,
		Nlink:      n.Nlink,
		Rdev:       n.Rdev,
		LinkTarget: n.LinkTarget,
	}
	if len(n.Xattrs) > 0 {
		m.Xattrs = make([]fsmeta.Xattr, len(n.Xattrs))
		for i, x := range n.Xattrs {
			m.Xattrs[i] = fsmeta.Xattr{Name: string(x.Name), Value: x.Value}
		}
	}
	return m
}

// restoreType maps a node type to fsmeta's (0, invalid, for an unknown one).
func restoreType(t NodeType) fsmeta.Type {
	switch t {
	case TypeFile:
		return fsmeta.Regular
	case TypeDir:
		return fsmeta.Dir
	case TypeSymlink:
		return fsmeta.Symlink
	case TypeFIFO:
		return fsmeta.FIFO
	case TypeCharDev:
		return fsmeta.CharDev
	case TypeBlockDev:
		return fsmeta.BlockDev
	}
	return 0
}
