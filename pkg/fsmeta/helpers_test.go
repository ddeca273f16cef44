package fsmeta

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// testDir returns a fresh temporary directory and an open handle to it.
func testDir(t *testing.T) (string, *os.File) {
	t.Helper()
	d := t.TempDir()
	f, err := os.Open(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return d, f
}

// requireRoot skips tests that need root; CI runs them as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs these tests as root)")
	}
}

// requireXattr skips the test when the file system under dir cannot store
// xattrs of the given name on a regular file (probed, not assumed).
func requireXattr(t *testing.T, dir, name string, value []byte) {
	t.Helper()
	p := filepath.Join(dir, ".xattr-probe")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	err := unix.Lsetxattr(p, name, value, 0)
	if errors.Is(err, unix.ENOTSUP) {
		t.Skipf("file system under %s cannot store %s xattrs: %v", dir, name, err)
	}
	if err != nil {
		t.Fatalf("probe xattr %s: %v", name, err)
	}
}

// ACL tags and the "no id" marker of the kernel's xattr ACL encoding.
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
	aclNoID     = 0xffffffff
)

type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// aclXattr encodes entries (which must be sorted by tag, then id) in the
// system.posix_acl_* xattr format: a little-endian uint32 version 2, then
// per entry uint16 tag, uint16 perm, uint32 id.
func aclXattr(entries ...aclEntry) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// testACL is a real access ACL: owner rw, user 12345 r, group r,
// group 23456 rw, mask rw, other r (so the mode's group bits are rw).
var testACL = aclXattr(
	aclEntry{aclUserObj, 6, aclNoID},
	aclEntry{aclUser, 4, 12345},
	aclEntry{aclGroupObj, 4, aclNoID},
	aclEntry{aclGroup, 6, 23456},
	aclEntry{aclMask, 6, aclNoID},
	aclEntry{aclOther, 4, aclNoID},
)

// capXattr is a version 2 security.capability value granting
// CAP_NET_BIND_SERVICE (bit 10) as permitted and effective.
var capXattr = func() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0x02000000|1) // revision 2, effective
	b = binary.LittleEndian.AppendUint32(b, 1<<10)           // permitted, low word
	b = binary.LittleEndian.AppendUint32(b, 0)               // inheritable, low word
	b = binary.LittleEndian.AppendUint32(b, 0)               // permitted, high word
	return binary.LittleEndian.AppendUint32(b, 0)            // inheritable, high word
}()

// setSource gives path the metadata in m (owner, mode unless a symlink,
// xattrs, times) using path-based calls that never follow a final symlink.
func setSource(t *testing.T, path string, m *Meta) {
	t.Helper()
	if err := unix.Lchown(path, int(m.UID), int(m.GID)); err != nil {
		t.Fatalf("lchown %s: %v", path, err)
	}
	if m.Type != Symlink {
		if err := unix.Chmod(path, m.Mode); err != nil {
			t.Fatalf("chmod %s: %v", path, err)
		}
	}
	for _, x := range m.Xattrs {
		if err := unix.Lsetxattr(path, x.Name, x.Value, 0); err != nil {
			t.Fatalf("lsetxattr %s %s: %v", path, x.Name, err)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(m.Atime), unix.NsecToTimespec(m.Mtime)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatalf("utimensat %s: %v", path, err)
	}
}

// mustLstat is Lstat that fails the test on error.
func mustLstat(t *testing.T, path string, o ReadOptions) *Meta {
	t.Helper()
	m, err := Lstat(path, o)
	if err != nil {
		t.Fatalf("Lstat: %v", err)
	}
	return m
}

// portable returns a copy of m without the fields that legitimately
// differ between a source and its restored copy.
func portable(m *Meta) Meta {
	c := *m
	c.Inode, c.Device, c.Ctime = 0, 0, 0
	return c
}

// sameMeta fails the test unless got equals want apart from inode, device
// and ctime.
func sameMeta(t *testing.T, want, got *Meta) {
	t.Helper()
	w, g := portable(want), portable(got)
	if !reflect.DeepEqual(w, g) {
		t.Errorf("metadata differs\nwant %+v\ngot  %+v", w, g)
	}
}

// xattrMap turns a sorted xattr list into a map for lookups.
func xattrMap(xs []Xattr) map[string]string {
	m := make(map[string]string, len(xs))
	for _, x := range xs {
		m[x.Name] = string(x.Value)
	}
	return m
}
