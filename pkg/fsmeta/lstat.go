package fsmeta

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxLinkTarget bounds the readlink buffer; Linux limits targets to
// PATH_MAX (4096) but some file systems report longer ones.
const maxLinkTarget = 1 << 20

// Lstat reads the metadata of path without following a final symlink.
//
// Unless o.NumericIDs is set, UID and GID are resolved to User and Group
// names ("" when unknown) through os/user. Results, failures included, are
// kept in a package-level cache guarded by a mutex for the life of the
// process, so a later change to /etc/passwd or /etc/group is not seen.
// Unless o.NoXattrs is set, every readable extended attribute is read with
// llistxattr/lgetxattr (ENOTSUP or ENODATA mean none; an attribute removed
// while reading is skipped; buffers grow when an ERANGE race is detected).
//
// A path that does not exist (or vanished while being read) gives an error
// wrapping os.ErrNotExist. A file type Linux has but gobak does not know
// gives ErrUnknownType. Lstat is safe for concurrent use.
func Lstat(path string, o ReadOptions) (*Meta, error) {
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Lstat(path, &st) }); err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	m, ok := fromStat(&st)
	if !ok {
		return nil, fmt.Errorf("lstat %q: mode %#o: %w", path, st.Mode, ErrUnknownType)
	}
	if m.Type == Symlink {
		target, err := readlink(func(b []byte) (int, error) { return unix.Readlink(path, b) })
		if err != nil {
			return nil, &fs.PathError{Op: "readlink", Path: path, Err: err}
		}
		m.LinkTarget = target
	}
	resolveNames(m, o)
	if !o.NoXattrs {
		xs, err := readXattrs(xattrSource{path: path})
		if err != nil {
			return nil, &fs.PathError{Op: "read xattrs", Path: path, Err: err}
		}
		m.Xattrs = xs
	}
	return m, nil
}

// Fstat reads the metadata of an open file, typically a regular file that a
// backup opened with O_NOFOLLOW to read its content, so that metadata and
// content are guaranteed to belong to the same inode. It reads the same
// fields as [Lstat], using fstat/flistxattr/fgetxattr on f. For a file
// opened with O_PATH (which the f*xattr calls reject) the xattrs are read
// through /proc/self/fd instead. Errors are as for Lstat; a closed f gives
// an error wrapping os.ErrClosed. Fstat is safe for concurrent use.
func Fstat(f *os.File, o ReadOptions) (*Meta, error) {
	if f == nil {
		return nil, fmt.Errorf("fstat: %w", os.ErrInvalid)
	}
	var m *Meta
	var err error
	cerr := withFD(f, func(fd int) { m, err = fstatFD(fd, f.Name(), o) })
	if cerr != nil {
		return nil, fmt.Errorf("fstat %q: %w", f.Name(), cerr)
	}
	return m, err
}

func fstatFD(fd int, name string, o ReadOptions) (*Meta, error) {
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: name, Err: err}
	}
	m, ok := fromStat(&st)
	if !ok {
		return nil, fmt.Errorf("fstat %q: mode %#o: %w", name, st.Mode, ErrUnknownType)
	}
	if m.Type == Symlink { // only possible for an O_PATH|O_NOFOLLOW descriptor
		target, err := readlink(func(b []byte) (int, error) { return unix.Readlinkat(fd, "", b) })
		if err != nil {
			return nil, &fs.PathError{Op: "readlinkat", Path: name, Err: err}
		}
		m.LinkTarget = target
	}
	resolveNames(m, o)
	if !o.NoXattrs {
		xs, err := readXattrs(xattrSource{fd: fd, byFD: true})
		if errors.Is(err, unix.EBADF) { // O_PATH descriptor
			xs, err = readXattrs(xattrSource{path: procFD(fd), follow: true})
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read xattrs", Path: name, Err: err}
		}
		m.Xattrs = xs
	}
	return m, nil
}

// resolveNames fills User and Group unless o.NumericIDs is set.
func resolveNames(m *Meta, o ReadOptions) {
	if o.NumericIDs {
		return
	}
	m.User = userNames.name(m.UID)
	m.Group = groupNames.name(m.GID)
}

// readlink calls call with a growing buffer until the target fits.
func readlink(call func([]byte) (int, error)) ([]byte, error) {
	for size := 256; size <= maxLinkTarget; size *= 2 {
		buf := make([]byte, size)
		n, err := call(buf)
		for err == unix.EINTR {
			n, err = call(buf)
		}
		if err != nil {
			return nil, err
		}
		if n < len(buf) {
			return buf[:n:n], nil
		}
	}
	return nil, unix.ENAMETOOLONG
}

// retryEINTR calls fn until it returns something other than EINTR.
func retryEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// procFD is the /proc magic link naming descriptor fd of this process.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
