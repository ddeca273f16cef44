package fsmeta

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hooks that tests flip to exercise the fallbacks for old kernels and a
// missing /proc. They are never changed outside tests.
var (
	haveProc = sync.OnceValue(func() bool {
		var st unix.Stat_t
		return unix.Stat("/proc/self/fd", &st) == nil
	})
	// useEmptyPath enables fchmodat2 and utimensat with AT_EMPTY_PATH on the
	// O_PATH descriptor (Linux 6.6 and 5.8+); they fall back by themselves
	// on kernels that lack them.
	useEmptyPath = true
)

// Apply sets the metadata m on the existing entry name inside the directory
// dir, which may be a directory opened with os.Open or os.OpenRoot's
// underlying *os.File — any descriptor usable with openat. name must be a
// single path component ("." means dir itself).
//
// The entry is resolved once with openat(O_PATH|O_NOFOLLOW), so a symlink
// at name is never followed, and everything is applied to that descriptor.
// If the entry's type differs from m.Type, Apply changes nothing and
// returns ErrTypeMismatch. Otherwise it applies, in this order:
//
//  1. owner, unless o.NoOwner: the uid/gid that m.User/m.Group have on
//     this system (unless o.NumericIDs; an unknown or empty name falls back
//     to m.UID/m.GID), skipped when already equal;
//  2. mode (m.Mode & 07777, after chown because chown clears setuid and
//     setgid); not for symlinks, whose mode Linux cannot change;
//  3. extended attributes and ACLs in m.Xattrs, unless o.NoXattrs (added or
//     replaced; attributes already on the entry and absent from m, such as
//     an SELinux label given at creation, are left alone);
//  4. access and modification times, with nanosecond precision, last.
//
// Each step that fails is reported, naming the step, and the rest still
// run; the errors are joined with errors.Join, so errors.Is finds the
// underlying errno (for example unix.ENOTSUP for an xattr the destination
// file system cannot store, or os.ErrPermission). Directory times should
// be applied after the directory's content is restored (post-order).
// Apply is safe for concurrent use.
func Apply(dir *os.File, name string, m *Meta, o ApplyOptions) error {
	if dir == nil || m == nil {
		return fmt.Errorf("apply %q: %w", name, os.ErrInvalid)
	}
	if !validName(name, true) {
		return fmt.Errorf("apply %q: %w", name, ErrInvalidName)
	}
	if !m.Type.valid() {
		return fmt.Errorf("apply %q: %v: %w", name, m.Type, ErrUnknownType)
	}
	var err error
	cerr := withFD(dir, func(dfd int) { err = applyAt(dfd, name, m, o) })
	if cerr != nil {
		return fmt.Errorf("apply %q: %w", name, cerr)
	}
	return err
}

// ApplyFile is Apply for an entry the caller holds open as f (a regular
// file opened for writing, say): everything is applied to that open
// descriptor, so the metadata reaches exactly the inode f refers to even if
// its name was replaced meanwhile.
func ApplyFile(f *os.File, m *Meta, o ApplyOptions) error {
	if f == nil || m == nil {
		return fmt.Errorf("apply: %w", os.ErrInvalid)
	}
	if !m.Type.valid() {
		return fmt.Errorf("apply %q: %v: %w", f.Name(), m.Type, ErrUnknownType)
	}
	var err error
	cerr := withFD(f, func(fd int) {
		t := &target{dfd: -1, name: f.Name(), fd: fd, rfd: fd}
		if err = retryEINTR(func() error { return unix.Fstat(fd, &t.st) }); err != nil {
			return
		}
		typ, ok := typeFromMode(t.st.Mode)
		if !ok {
			err = fmt.Errorf("mode %#o: %w", t.st.Mode, ErrUnknownType)
			return
		}
		t.typ = typ
		err = applyTarget(t, f.Name(), m, o)
	})
	if cerr != nil {
		return fmt.Errorf("apply %q: %w", f.Name(), cerr)
	}
	return err
}

func applyAt(dfd int, name string, m *Meta, o ApplyOptions) error {
	t, err := openTarget(dfd, name)
	if err != nil {
		return fmt.Errorf("apply %q: open: %w", name, err)
	}
	defer t.close()
	return applyTarget(t, name, m, o)
}

func applyTarget(t *target, name string, m *Meta, o ApplyOptions) error {
	if t.typ != m.Type {
		return fmt.Errorf("apply %q: entry is a %v, metadata is for a %v: %w", name, t.typ, m.Type, ErrTypeMismatch)
	}

	var errs []error
	fail := func(what string, err error) {
		errs = append(errs, fmt.Errorf("apply %q: %s: %w", name, what, err))
	}
	if !o.NoOwner {
		uid, gid := m.UID, m.GID
		if !o.NumericIDs {
			if id, ok := userNames.id(m.User); ok {
				uid = id
			}
			if id, ok := groupNames.id(m.Group); ok {
				gid = id
			}
		}
		if uid != t.st.Uid || gid != t.st.Gid {
			err := retryEINTR(func() error { return unix.Fchownat(t.fd, "", int(uid), int(gid), unix.AT_EMPTY_PATH) })
			if err != nil {
				fail(fmt.Sprintf("chown %d:%d", uid, gid), err)
			}
		}
	}
	if m.Type != Symlink {
		if err := t.chmod(m.Mode & 07777); err != nil {
			fail(fmt.Sprintf("chmod %#o", m.Mode&07777), err)
		}
	}
	if !o.NoXattrs {
		for _, x := range m.Xattrs {
			if err := t.setxattr(x.Name, x.Value); err != nil {
				fail(fmt.Sprintf("set xattr %q", x.Name), err)
			}
		}
	}
	if err := t.utimes(m.Atime, m.Mtime); err != nil {
		fail("set times", err)
	}
	return errors.Join(errs...)
}

// target is an entry opened with O_PATH|O_NOFOLLOW for Apply.
type target struct {
	dfd  int
	name string
	fd   int // O_PATH descriptor of the entry itself
	st   unix.Stat_t
	typ  Type
	rfd  int // the entry reopened for I/O when /proc is missing; -1 if not
}

func openTarget(dfd int, name string) (*target, error) {
	fd, err := openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	t := &target{dfd: dfd, name: name, fd: fd, rfd: -1}
	if err := retryEINTR(func() error { return unix.Fstat(fd, &t.st) }); err != nil {
		unix.Close(fd)
		return nil, err
	}
	typ, ok := typeFromMode(t.st.Mode)
	if !ok {
		unix.Close(fd)
		return nil, fmt.Errorf("mode %#o: %w", t.st.Mode, ErrUnknownType)
	}
	t.typ = typ
	return t, nil
}

func (t *target) close() {
	if t.rfd >= 0 {
		unix.Close(t.rfd)
	}
	unix.Close(t.fd)
}

// viaProcOrFD runs procOp on the /proc/self/fd link of the O_PATH
// descriptor (following that magic link reaches exactly the opened inode,
// never a symlink's target), or, without /proc, fdOp on the entry reopened
// for reading, which is only possible for regular files and directories.
func (t *target) viaProcOrFD(procOp func(path string) error, fdOp func(fd int) error) error {
	if haveProc() {
		return retryEINTR(func() error { return procOp(procFD(t.fd)) })
	}
	if t.rfd < 0 {
		if t.typ != Regular && t.typ != Dir {
			return ErrNoProc
		}
		fd, err := openat(t.dfd, t.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
		if err != nil {
			return fmt.Errorf("%w, and reopening failed: %w", ErrNoProc, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Dev != t.st.Dev || st.Ino != t.st.Ino {
			unix.Close(fd)
			return fmt.Errorf("%w, and the entry was replaced meanwhile", ErrNoProc)
		}
		t.rfd = fd
	}
	return retryEINTR(func() error { return fdOp(t.rfd) })
}

func (t *target) chmod(mode uint32) error {
	if useEmptyPath {
		err := retryEINTR(func() error { return unix.Fchmodat(t.fd, "", mode, unix.AT_EMPTY_PATH) })
		if err != unix.ENOSYS && err != unix.EOPNOTSUPP && err != unix.EINVAL {
			return err
		}
	}
	return t.viaProcOrFD(
		func(p string) error { return unix.Fchmodat(unix.AT_FDCWD, p, mode, 0) },
		func(fd int) error { return unix.Fchmod(fd, mode) })
}

func (t *target) setxattr(name string, value []byte) error {
	return t.viaProcOrFD(
		func(p string) error { return unix.Setxattr(p, name, value, 0) },
		func(fd int) error { return unix.Fsetxattr(fd, name, value, 0) })
}

func (t *target) utimes(atime, mtime int64) error {
	ts := []unix.Timespec{unix.NsecToTimespec(atime), unix.NsecToTimespec(mtime)}
	if useEmptyPath {
		err := retryEINTR(func() error { return unix.UtimesNanoAt(t.fd, "", ts, unix.AT_EMPTY_PATH) })
		if err != unix.EINVAL && err != unix.ENOENT {
			return err
		}
	}
	if t.dfd < 0 { // ApplyFile: futimens on the open descriptor
		return retryEINTR(func() error { return futimens(t.fd, ts) })
	}
	// Older kernels: by name, still without following a final symlink.
	// The entry could have been swapped for another one in the same
	// directory meanwhile, but nothing outside dir can be reached.
	return retryEINTR(func() error {
		return unix.UtimesNanoAt(t.dfd, t.name, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
}

// Mknod creates the FIFO, character or block device, or socket node name in
// dir (mknodat) with m's type, mode and device number (Rdev, for devices).
// The process umask applies to the mode, so follow with [Apply] to set the
// exact mode, owner and times. An existing entry gives an error wrapping
// os.ErrExist; any other m.Type gives ErrUnknownType; creating devices
// needs CAP_MKNOD. Mknod is safe for concurrent use.
func Mknod(dir *os.File, name string, m *Meta) error {
	if dir == nil || m == nil {
		return fmt.Errorf("mknod %q: %w", name, os.ErrInvalid)
	}
	if !validName(name, false) {
		return fmt.Errorf("mknod %q: %w", name, ErrInvalidName)
	}
	var dev uint64
	switch m.Type {
	case FIFO, Socket:
	case CharDev, BlockDev:
		maj, mnr := unix.Major(m.Rdev), unix.Minor(m.Rdev)
		if maj >= 1<<12 || mnr >= 1<<20 || unix.Mkdev(maj, mnr) != m.Rdev {
			return fmt.Errorf("mknod %q: device number %#x out of range: %w", name, m.Rdev, os.ErrInvalid)
		}
		dev = m.Rdev
	default:
		return fmt.Errorf("mknod %q: cannot create a %v: %w", name, m.Type, ErrUnknownType)
	}
	mode := modeBits(m.Type) | m.Mode&07777
	var err error
	cerr := withFD(dir, func(dfd int) {
		err = retryEINTR(func() error { return unix.Mknodat(dfd, name, mode, int(dev)) })
	})
	if cerr != nil {
		return fmt.Errorf("mknod %q: %w", name, cerr)
	}
	if err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return nil
}

// CreateSymlink creates a symlink named name in dir (symlinkat) pointing to
// target, which is stored byte for byte and never resolved. An empty target
// or one containing NUL is rejected with os.ErrInvalid; an existing entry
// gives an error wrapping os.ErrExist. CreateSymlink is safe for concurrent use.
func CreateSymlink(dir *os.File, name string, target []byte) error {
	if dir == nil {
		return fmt.Errorf("symlink %q: %w", name, os.ErrInvalid)
	}
	if !validName(name, false) {
		return fmt.Errorf("symlink %q: %w", name, ErrInvalidName)
	}
	if len(target) == 0 || strings.IndexByte(string(target), 0) >= 0 {
		return fmt.Errorf("symlink %q: target %q: %w", name, target, os.ErrInvalid)
	}
	var err error
	cerr := withFD(dir, func(dfd int) {
		err = retryEINTR(func() error { return unix.Symlinkat(string(target), dfd, name) })
	})
	if cerr != nil {
		return fmt.Errorf("symlink %q: %w", name, cerr)
	}
	if err != nil {
		return &os.PathError{Op: "symlinkat", Path: name, Err: err}
	}
	return nil
}

// validName reports whether name is exactly one path component. "." (the
// directory itself) is allowed only when dot is true.
func validName(name string, dot bool) bool {
	if name == "" || name == ".." || (name == "." && !dot) {
		return false
	}
	return strings.IndexByte(name, '/') < 0 && strings.IndexByte(name, 0) < 0
}

// withFD runs fn with the descriptor of f, keeping f from being closed
// meanwhile (and without putting it into blocking mode as f.Fd would).
// A closed f gives an error wrapping os.ErrClosed.
func withFD(f *os.File, fn func(fd int)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if err := rc.Control(func(fd uintptr) { fn(int(fd)) }); err != nil {
		// Control fails only when f is closed (or being closed).
		return fmt.Errorf("%w: %v", os.ErrClosed, err)
	}
	return nil
}

func openat(dfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// futimens is utimensat(fd, NULL, ts, 0).
func futimens(fd int, ts []unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
