package fsmeta

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// Limits that stop the grow-and-retry loops from running away on a file
// whose xattrs keep changing or on a file system that reports nonsense.
// Linux itself caps a name list and a value at 64 KiB each.
const (
	maxXattrBuf   = 16 << 20
	maxXattrTries = 64
)

// xattrSource is where extended attributes are read from: a path (using the
// l* calls, which do not follow a final symlink, or the following calls for
// /proc/self/fd magic links) or an open file descriptor (the f* calls).
type xattrSource struct {
	path   string
	fd     int
	byFD   bool
	follow bool // path is a /proc/self/fd link: use listxattr/getxattr
}

func (s xattrSource) list(buf []byte) (int, error) {
	switch {
	case s.byFD:
		return unix.Flistxattr(s.fd, buf)
	case s.follow:
		return unix.Listxattr(s.path, buf)
	}
	return unix.Llistxattr(s.path, buf)
}

func (s xattrSource) get(name string, buf []byte) (int, error) {
	switch {
	case s.byFD:
		return unix.Fgetxattr(s.fd, name, buf)
	case s.follow:
		return unix.Getxattr(s.path, name, buf)
	}
	return unix.Lgetxattr(s.path, name, buf)
}

// xattrError describes a failed xattr read; op is the system call name.
type xattrError struct {
	op, name string
	err      error
}

func (e *xattrError) Error() string {
	if e.name == "" {
		return e.op + ": " + e.err.Error()
	}
	return fmt.Sprintf("%s %q: %v", e.op, e.name, e.err)
}

func (e *xattrError) Unwrap() error { return e.err }

// readXattrs returns all extended attributes of s sorted by name, or nil
// when there are none or the file system does not support them. An xattr
// removed between listing and reading is skipped. Errors are *xattrError.
func readXattrs(s xattrSource) ([]Xattr, error) {
	// Most files have no xattrs: try a stack buffer first so that the
	// common case allocates nothing.
	var stack [1024]byte
	list := stack[:]
	n, err := s.list(list)
	if err == nil && n >= 0 && n <= len(list) {
		list = list[:n]
	} else if err == nil || err == unix.ERANGE || err == unix.EINTR {
		list, err = fetch(s, "", make([]byte, 2*len(stack)))
	}
	if err != nil {
		if err == unix.ENOTSUP || err == unix.ENODATA {
			return nil, nil
		}
		return nil, &xattrError{op: s.op("listxattr"), err: err}
	}
	if len(list) == 0 {
		return nil, nil
	}
	names := make([]string, 0, bytes.Count(list, []byte{0}))
	for len(list) > 0 {
		i := bytes.IndexByte(list, 0)
		if i < 0 {
			i = len(list) // tolerate a missing final NUL
		}
		if i > 0 {
			names = append(names, string(list[:i]))
		}
		list = list[min(i+1, len(list)):]
	}
	slices.Sort(names)
	names = slices.Compact(names)

	buf := make([]byte, 512)
	out := make([]Xattr, 0, len(names))
	for _, name := range names {
		val, err := fetch(s, name, buf)
		switch err {
		case nil:
		case unix.ENODATA, unix.ENOTSUP:
			continue // removed since listing, or not readable as an xattr
		default:
			return nil, &xattrError{op: s.op("getxattr"), name: name, err: err}
		}
		if cap(val) > cap(buf) {
			buf = val[:cap(val)] // keep the grown buffer for the next value
		}
		out = append(out, Xattr{Name: name, Value: bytes.Clone(val)})
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// op names the system call used for error messages.
func (s xattrSource) op(base string) string {
	switch {
	case s.byFD:
		return "f" + base
	case s.follow:
		return base
	}
	return "l" + base
}

// fetch reads the name list (name == "") or the value of xattr name from
// s into buf, growing the buffer on ERANGE (asking for the needed size with
// an empty buffer, which races with concurrent changes, so it loops) and
// retrying on EINTR. The result aliases buf or a new buffer.
func fetch(s xattrSource, name string, buf []byte) ([]byte, error) {
	return fetchWith(buf, func(b []byte) (int, error) {
		if name == "" {
			return s.list(b)
		}
		return s.get(name, b)
	})
}

// fetchWith is fetch for any list/get-style call (separate for testing).
func fetchWith(buf []byte, call func([]byte) (int, error)) ([]byte, error) {
	for range maxXattrTries {
		n, err := call(buf)
		switch err {
		case nil:
			if n < 0 || n > len(buf) {
				return nil, unix.ERANGE
			}
			return buf[:n], nil
		case unix.EINTR:
			continue
		case unix.ERANGE:
		default:
			return nil, err
		}
		size, err := call(nil)
		for err == unix.EINTR {
			size, err = call(nil)
		}
		if err != nil {
			return nil, err
		}
		size = max(size, 2*len(buf))
		if size > maxXattrBuf {
			return nil, unix.E2BIG
		}
		buf = make([]byte, size)
	}
	return nil, unix.ERANGE
}
