package archive

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/fsmeta"
)

// xDir is a directory of the destination that entries are restored into.
// It stays open until everything in it is complete; then its metadata is
// applied (post-order) and it releases its parent.
type xDir struct {
	parent *xDir
	name   string // in parent
	dest   string // relative to the destination ("" for the destination)
	path   []byte // archive path, for warnings
	// node is the directory's metadata, applied when it is complete; nil
	// for the destination itself and for directories created only to hold
	// selected entries (implicit).
	node     *Node
	implicit bool

	// f and fd are set (by the walking goroutine) once the directory
	// exists and is open, before any entry in it is handed to a worker.
	f  *os.File
	fd int
	// pending counts what must complete before the directory is: the walk
	// of its content, and every file and subdirectory in it.
	pending atomic.Int64
	err     error // why an implicit directory could not be created
}

// ensure creates an implicit directory (and its implicit parents) on first
// use. Only the walking goroutine calls it.
func (d *xDir) ensure(x *extractor) error {
	switch {
	case d.f != nil:
		return nil
	case d.err != nil:
		return d.err
	case d.parent == nil:
		return fmt.Errorf("directory %q: %w", d.dest, os.ErrInvalid)
	}
	if err := d.parent.ensure(x); err != nil {
		d.err = err
		return err
	}
	if x.restored != nil {
		if prev, ok := x.restored[d.dest]; ok && prev != TypeDir {
			d.err = fmt.Errorf("%w: directory %q is already restored as a %s", ErrPathConflict, d.dest, prev)
			return d.err
		}
		x.restored[d.dest] = TypeDir
	}
	if err := x.openDir(d, 0o777); err != nil {
		d.err = fmt.Errorf("create directory %q: %w", d.dest, err)
		return d.err
	}
	return nil
}

// release drops one pending reference; the last one completes d.
func (d *xDir) release(x *extractor) {
	if d.f == nil || d.pending.Add(-1) != 0 {
		return
	}
	if d.node != nil {
		if err := fsmeta.Apply(d.f, ".", restoreMeta(d.node), x.apply); err != nil {
			x.warn(d.path, err, &x.stats.Failed)
		}
	}
	if err := x.closeFile(d.f); err != nil && d.node != nil {
		x.warn(d.path, err, &x.stats.Failed)
	}
	if d.parent != nil {
		d.parent.release(x)
	}
}

// makeDir creates (or reuses) the directory name in parent and opens it.
func (x *extractor) makeDir(parent *xDir, name, dest string, perm uint32) (*xDir, error) {
	d := &xDir{parent: parent, name: name, dest: dest}
	if err := x.openDir(d, perm); err != nil {
		return nil, err
	}
	return d, nil
}

// openDir creates d in its parent with mode perm (an existing directory
// is reused, anything else in the way removed) and opens it without
// following symlinks. The new directory holds a reference on its parent
// and one for the walk of its content.
func (x *extractor) openDir(d *xDir, perm uint32) error {
	pfd := d.parent.fd
	err := replacing(pfd, d.name, func() error {
		err := retry(func() error { return unix.Mkdirat(pfd, d.name, perm) })
		if err == unix.EEXIST {
			var st unix.Stat_t
			if serr := unix.Fstatat(pfd, d.name, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
				return nil // reuse an existing directory
			}
		}
		return wrapErrno("mkdir", err)
	})
	if err != nil {
		return err
	}
	var fd int
	err = retry(func() (err error) {
		fd, err = unix.Openat(pfd, d.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return wrapErrno("open directory", err)
	}
	d.f, d.fd = os.NewFile(uintptr(fd), d.dest), fd
	x.track(d.f)
	d.pending.Store(1)
	d.parent.pending.Add(1)
	return nil
}

// special restores a symlink, FIFO or device and its metadata.
func (x *extractor) special(parent *xDir, name string, p []byte, n *Node) {
	m := restoreMeta(n)
	counter := &x.stats.Specials
	err := replacing(parent.fd, name, func() error {
		if n.Type == TypeSymlink {
			return fsmeta.CreateSymlink(parent.f, name, n.LinkTarget)
		}
		return fsmeta.Mknod(parent.f, name, m)
	})
	if n.Type == TypeSymlink {
		counter = &x.stats.Symlinks
	}
	if err != nil {
		x.warn(p, err, &x.stats.Failed)
		return
	}
	x.count(counter, 1)
	if err := fsmeta.Apply(parent.f, name, m, x.apply); err != nil {
		x.warn(p, err, &x.stats.Failed)
	}
}

// createFile creates the regular file name in parent for writing.
func createFile(parent *xDir, name string) (*os.File, error) {
	var fd int
	err := replacing(parent.fd, name, func() error {
		return wrapErrno("create", retry(func() (err error) {
			fd, err = unix.Openat(parent.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			return err
		}))
	})
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// link makes dest a hard link to the already restored first.
func (x *extractor) link(parent *xDir, name, first, dest string) error {
	return replacing(parent.fd, name, func() error { return x.root.Link(first, dest) })
}

// replacing runs create; if it fails because an entry is in the way, that
// entry is removed (never followed: a symlink is unlinked, not its target;
// only an empty directory can be removed) and create runs once more.
func replacing(dirfd int, name string, create func() error) error {
	err := create()
	if !errors.Is(err, os.ErrExist) {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return wrapErrno("replace existing entry: stat", err)
	}
	flags := 0
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		flags = unix.AT_REMOVEDIR
	}
	if err := retry(func() error { return unix.Unlinkat(dirfd, name, flags) }); err != nil && err != unix.ENOENT {
		return wrapErrno("replace existing entry: remove", err)
	}
	return create()
}

// retry calls fn until it fails with something other than EINTR.
func retry(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// wrapErrno names the operation that failed (nil stays nil).
func wrapErrno(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
