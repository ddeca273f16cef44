package fsmeta

import (
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// Type is the kind of a file system entry. Its numeric values are part of
// gobak's tree format and never change.
type Type uint8

// The entry types gobak records. The zero Type is invalid.
const (
	Regular  Type = 1
	Dir      Type = 2
	Symlink  Type = 3
	FIFO     Type = 4
	CharDev  Type = 5
	BlockDev Type = 6
	Socket   Type = 7
)

// String returns a short lower-case name such as "regular" or "symlink",
// or "Type(N)" for an unknown value.
func (t Type) String() string {
	switch t {
	case Regular:
		return "regular"
	case Dir:
		return "dir"
	case Symlink:
		return "symlink"
	case FIFO:
		return "fifo"
	case CharDev:
		return "chardev"
	case BlockDev:
		return "blockdev"
	case Socket:
		return "socket"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// valid reports whether t is one of the defined types.
func (t Type) valid() bool { return t >= Regular && t <= Socket }

// Xattr is one extended attribute. POSIX ACLs are the xattrs
// system.posix_acl_access and system.posix_acl_default (kept as raw bytes in
// the kernel's xattr encoding).
type Xattr struct {
	Name  string
	Value []byte
}

// Meta is everything gobak records about a file except its name and content.
type Meta struct {
	Type        Type
	Mode        uint32 // permission bits plus setuid/setgid/sticky: st_mode & 07777
	UID, GID    uint32
	User, Group string // names from the system's user/group database, "" if unknown
	Size        int64
	// Mtime, Atime and Ctime are nanoseconds since the Unix epoch.
	Mtime, Atime, Ctime  int64
	Inode, Device, Nlink uint64
	Rdev                 uint64  // st_rdev of character and block devices (Linux encoding)
	LinkTarget           []byte  // for symlinks (raw bytes, not assumed UTF-8)
	Xattrs               []Xattr // sorted by Name; every namespace readable (user, trusted, security, system)
}

// ReadOptions control what [Lstat] and [Fstat] read.
type ReadOptions struct {
	// NumericIDs skips resolving UID and GID to names; User and Group stay "".
	NumericIDs bool
	// NoXattrs skips listing extended attributes (and so ACLs); Xattrs stays nil.
	NoXattrs bool
}

// ApplyOptions control what [Apply] sets.
type ApplyOptions struct {
	// NumericIDs uses Meta.UID and Meta.GID as they are instead of mapping
	// Meta.User and Meta.Group to this system's ids.
	NumericIDs bool
	// NoOwner skips changing the owner (for a restore run by a non-root
	// user, who could not chown anyway).
	NoOwner bool
	// NoXattrs skips setting extended attributes and ACLs.
	NoXattrs bool
}

// Sentinel errors. Errors from system calls are returned wrapped in an
// *fs.PathError (or with fmt.Errorf and %w), so errors.Is works with both
// these sentinels and the syscall errno (for example os.ErrNotExist,
// os.ErrPermission or unix.ENOTSUP for a file system without xattrs).
var (
	// ErrUnknownType is returned for a file whose st_mode type bits are not
	// one of the known types.
	ErrUnknownType = errors.New("fsmeta: unknown file type")
	// ErrTypeMismatch is returned by Apply when the entry on disk is not of
	// the type the metadata describes (for example a symlink where a
	// regular file was expected); nothing is changed in that case.
	ErrTypeMismatch = errors.New("fsmeta: entry type does not match metadata")
	// ErrInvalidName is returned for an entry name that is not exactly one
	// path component ("", "..", or containing '/' or NUL).
	ErrInvalidName = errors.New("fsmeta: invalid entry name")
	// ErrNoProc is returned when an operation needs /proc/self/fd and it is
	// not mounted.
	ErrNoProc = errors.New("fsmeta: /proc/self/fd is not available")
)

// typeFromMode maps the S_IFMT bits of st_mode to a Type.
func typeFromMode(mode uint32) (Type, bool) {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return Regular, true
	case unix.S_IFDIR:
		return Dir, true
	case unix.S_IFLNK:
		return Symlink, true
	case unix.S_IFIFO:
		return FIFO, true
	case unix.S_IFCHR:
		return CharDev, true
	case unix.S_IFBLK:
		return BlockDev, true
	case unix.S_IFSOCK:
		return Socket, true
	}
	return 0, false
}

// modeBits returns the S_IFMT bits for t, or 0 for an invalid Type.
func modeBits(t Type) uint32 {
	switch t {
	case Regular:
		return unix.S_IFREG
	case Dir:
		return unix.S_IFDIR
	case Symlink:
		return unix.S_IFLNK
	case FIFO:
		return unix.S_IFIFO
	case CharDev:
		return unix.S_IFCHR
	case BlockDev:
		return unix.S_IFBLK
	case Socket:
		return unix.S_IFSOCK
	}
	return 0
}

// fromStat fills the stat-derived fields of a Meta. ok is false when the
// type bits are unknown.
func fromStat(st *unix.Stat_t) (*Meta, bool) {
	t, ok := typeFromMode(st.Mode)
	if !ok {
		return nil, false
	}
	m := &Meta{
		Type:   t,
		Mode:   st.Mode & 07777,
		UID:    st.Uid,
		GID:    st.Gid,
		Size:   st.Size,
		Mtime:  st.Mtim.Nano(),
		Atime:  st.Atim.Nano(),
		Ctime:  st.Ctim.Nano(),
		Inode:  st.Ino,
		Device: st.Dev,
		Nlink:  uint64(st.Nlink),
	}
	if t == CharDev || t == BlockDev {
		m.Rdev = st.Rdev
	}
	return m, true
}
