package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/fsmeta"
)

// cacheDirSignature starts a CACHEDIR.TAG file (bford.info/cachedir).
const cacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55"

// namedSlot is an entry of a directory being built, with its name.
type namedSlot struct {
	name []byte
	ch   entrySlot
}

// walkRoot walks the archive's upper levels and the paths below them, on
// the caller's goroutine, and returns the root directory's future.
func (c *creator) walkRoot(root *pathNode) (*nodeFuture, error) {
	c.nplanned = countWalked(root)
	pd := c.parentRoot()
	var kids []namedSlot
	if root.walk != "" {
		m, err := fsmeta.Lstat(root.walk, c.ropts)
		switch {
		case err != nil:
			c.missing++
			c.warn(root.walk, err)
			c.list(StatusError, root.walk)
		case m.Type != fsmeta.Dir:
			return nil, fmt.Errorf("%w: %q is stored as the archive's root and must be a directory", ErrBadPath, root.walk)
		default:
			kids, _ = c.dirChildren(root.walk, "", pd, m.Device)
		}
	} else {
		var err error
		if kids, err = c.plannedChildren(root, pd); err != nil {
			return nil, err
		}
	}
	if c.nplanned > 0 && c.missing == c.nplanned && !root.stdin {
		return nil, fmt.Errorf("%w: no PATH exists", ErrNoPaths)
	}
	if root.stdin {
		name := []byte(c.o.StdinName)
		for _, k := range kids {
			if bytes.Equal(k.name, name) {
				return nil, fmt.Errorf("%w: standard input and %q would both be stored as %q", ErrBadPath, joinFS(root.walk, c.o.StdinName), c.o.StdinName)
			}
		}
		kids = append(kids, namedSlot{name: name, ch: c.stdinChild(name)})
		slices.SortFunc(kids, func(a, b namedSlot) int { return bytes.Compare(a.name, b.name) })
	}
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	return c.submitDir(&dirJob{children: slotsOf(kids)}), nil
}

// countWalked counts the paths to walk in the plan.
func countWalked(n *pathNode) int {
	k := 0
	if n.walk != "" {
		k++
	}
	for _, ch := range n.children {
		k += countWalked(ch)
	}
	return k
}

// plannedChildren returns the entries of an upper-level directory: the
// paths to walk in it and the directories on the way to others.
func (c *creator) plannedChildren(n *pathNode, pd parentDir) ([]namedSlot, error) {
	var kids []namedSlot
	for _, pn := range n.sortedChildren() {
		name := []byte(pn.name)
		if pn.walk != "" {
			if ch, ok := c.walkEntry(pn.walk, pn.apath, name, pd.lookup(name), 0, true); ok {
				kids = append(kids, namedSlot{name, ch})
			}
			continue
		}
		// A directory on the way: its metadata (following a symlink, as
		// the path given does), and only the planned entries.
		m, err := fsmeta.Lstat(pn.fsDir+"/.", c.ropts)
		if err != nil {
			c.missing += countWalked(pn)
			c.warn(pn.fsDir, err)
			c.list(StatusError, pn.fsDir)
			continue
		}
		sub, err := c.plannedChildren(pn, c.loadParentDir(pd.lookup(name)))
		if err != nil {
			return nil, err
		}
		node := nodeFromMeta(name, m)
		c.list(StatusDir, pn.fsDir)
		kids = append(kids, namedSlot{name, entrySlot{res: c.submitDir(&dirJob{node: &node, children: slotsOf(sub), dropIfEmpty: true})}})
	}
	return kids, c.ctx.Err()
}

// unname drops the names.
func slotsOf(kids []namedSlot) []entrySlot {
	out := make([]entrySlot, len(kids))
	for i, k := range kids {
		out[i] = k.ch
	}
	return out
}

// walkEntry handles one entry at fsPath (archive path apath): it applies
// the exclusions and returns its node or future; false if it is left out.
// p is the parent archive's entry of the same path, dev the device of the
// path being walked (top: this entry is one of the paths given).
func (c *creator) walkEntry(fsPath, apath string, name []byte, p *Node, dev uint64, top bool) (entrySlot, bool) {
	excluded, recurse := false, false
	if c.o.Exclude != nil {
		excluded, recurse = c.o.Exclude.Excluded(apath)
	}
	if excluded && !recurse {
		c.list(StatusExcluded, fsPath)
		return entrySlot{}, false
	}
	m, err := fsmeta.Lstat(fsPath, c.ropts)
	return c.walkStat(fsPath, apath, name, p, dev, top, excluded, m, err, nil)
}

// walkStat is walkEntry once the entry's metadata m (or the error getting
// it) is known. known, if not nil, holds the stored sizes of blobs looked
// up in a batch for the directory.
func (c *creator) walkStat(fsPath, apath string, name []byte, p *Node, dev uint64, top, excluded bool, m *fsmeta.Meta, err error, known blobSizes) (entrySlot, bool) {
	if err != nil {
		if top {
			c.missing++
		}
		c.warn(fsPath, err)
		c.list(StatusError, fsPath)
		return entrySlot{}, false
	}
	if top {
		dev = m.Device
	} else if c.o.OneFileSystem && m.Device != dev {
		c.list(StatusExcluded, fsPath)
		return entrySlot{}, false
	}
	if excluded && m.Type != fsmeta.Dir {
		c.list(StatusExcluded, fsPath)
		return entrySlot{}, false
	}
	node := nodeFromMeta(name, m)
	switch m.Type {
	case fsmeta.Regular:
		return c.fileEntry(fsPath, &node, p, m, known), true
	case fsmeta.Dir:
		if c.tagged(fsPath) {
			c.list(StatusExcluded, fsPath)
			return entrySlot{}, false
		}
		if !excluded {
			c.list(StatusDir, fsPath)
		}
		c.setCurrent(fsPath)
		kids, ok := c.dirChildren(fsPath, apath, c.loadParentDir(p), dev)
		if !ok {
			return entrySlot{}, false
		}
		return entrySlot{res: c.submitDir(&dirJob{node: &node, children: slotsOf(kids), dropIfEmpty: excluded})}, true
	case fsmeta.Socket:
		c.list(StatusSocket, fsPath)
		return entrySlot{}, false
	case fsmeta.Symlink:
		c.list(StatusSymlink, fsPath)
	case fsmeta.FIFO:
		c.list(StatusFIFO, fsPath)
	case fsmeta.CharDev:
		c.list(StatusCharDev, fsPath)
	case fsmeta.BlockDev:
		c.list(StatusBlockDev, fsPath)
	}
	return entrySlot{node: &node}, true
}

// fileEntry returns a regular file's node: with the parent's content if
// the file is unchanged, else a future that the readers complete.
//
// m may lack the extended attributes (see statDir): an unchanged file
// then takes them from p (a change of xattrs changes the ctime), and a
// file to read gets them from its open descriptor.
func (c *creator) fileEntry(fsPath string, node, p *Node, m *fsmeta.Meta, known blobSizes) entrySlot {
	if c.o.DryRun {
		c.acct.file(node.Size)
		c.list(StatusDryRun, fsPath)
		return entrySlot{node: node}
	}
	if unchanged(p, m) && !c.racy(p) {
		if ex, err := Extents(c.ctx, c.cs, p); err == nil && c.acct.reuse(ex, known) {
			node.Content, node.ContentParts = p.Content, p.ContentParts
			if m.Xattrs == nil {
				node.Xattrs = p.Xattrs
			}
			c.acct.file(node.Size)
			c.list(StatusUnchanged, fsPath)
			return entrySlot{node: node}
		}
	}
	status := StatusAdded
	if p != nil && p.Type == TypeFile {
		status = StatusModified
	}
	return entrySlot{res: c.submitFile(&fileJob{fsPath: fsPath, name: node.Name, status: status})}
}

// dirChildren walks a directory's entries in name order; false if the
// directory vanished (it is then left out). A directory that cannot be
// read is kept, empty, with a warning.
func (c *creator) dirChildren(fsPath, apath string, pd parentDir, dev uint64) ([]namedSlot, bool) {
	names, err := readDirNames(fsPath)
	if err != nil {
		c.warn(fsPath, err)
		c.list(StatusError, fsPath)
		if errors.Is(err, os.ErrNotExist) {
			return nil, false
		}
	}
	slices.Sort(names)
	// readdir may return a name twice if the directory changes while it is
	// listed (POSIX allows it); a tree must not hold it twice.
	names = slices.Compact(names)
	// Exclusions first (in order, on this goroutine), then the entries'
	// metadata, read in parallel, then each entry in order.
	excl := make([]exclusion, len(names))
	for i, nm := range names {
		if c.o.Exclude != nil {
			excl[i].excluded, excl[i].recurse = c.o.Exclude.Excluded(joinFS(apath, nm))
		}
	}
	stats := c.statDir(fsPath, names, excl)
	parents := pd.align(names)
	known := c.lookupReused(parents, stats)
	kids := make([]namedSlot, 0, len(names))
	for i, nm := range names {
		if c.ctx.Err() != nil {
			break
		}
		entryPath := joinFS(fsPath, nm)
		if excl[i].excluded && !excl[i].recurse {
			c.list(StatusExcluded, entryPath)
			continue
		}
		name := []byte(nm)
		st := stats[i]
		if ch, ok := c.walkStat(entryPath, joinFS(apath, nm), name, parents[i], dev, false, excl[i].excluded, st.m, st.err, known); ok {
			kids = append(kids, namedSlot{name, ch})
		}
	}
	return kids, true
}

// readDirNames lists a directory without following a symlink in its
// place.
func readDirNames(path string) ([]string, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := openRetry(path, flags|unix.O_NOATIME)
	if err == unix.EPERM {
		fd, err = openRetry(path, flags)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open directory", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", path, err)
	}
	return names, nil
}

// tagged reports whether a directory is excluded by its content: a
// CACHEDIR.TAG (with ExcludeCaches) or an entry named in ExcludeIfPresent.
func (c *creator) tagged(dir string) bool {
	if c.o.ExcludeCaches {
		if f, err := openNoFollow(joinFS(dir, "CACHEDIR.TAG")); err == nil {
			buf := make([]byte, len(cacheDirSignature))
			_, err := io.ReadFull(f, buf)
			f.Close()
			if err == nil && string(buf) == cacheDirSignature {
				return true
			}
		}
	}
	for _, name := range c.o.ExcludeIfPresent {
		var st unix.Stat_t
		if unix.Lstat(joinFS(dir, name), &st) == nil {
			return true
		}
	}
	return false
}

// stdinChild queues standard input as a regular file: mode 0660, owned by
// this process's user and group, modified now.
func (c *creator) stdinChild(name []byte) entrySlot {
	now := time.Now().UnixNano()
	n := Node{
		Name:  name,
		Type:  TypeFile,
		Mode:  0o660,
		UID:   uint32(os.Getuid()),
		GID:   uint32(os.Getgid()),
		Mtime: now,
		Atime: now,
		Ctime: now,
	}
	if !c.o.NumericIDs {
		n.User, n.Group = ownerNames(n.UID, n.GID)
	}
	if c.o.DryRun {
		c.list(StatusDryRun, "-")
		return entrySlot{node: &n}
	}
	return entrySlot{res: c.submitFile(&fileJob{fsPath: "-", name: name, stdin: c.o.Stdin, status: StatusStdin, stdNode: n})}
}
