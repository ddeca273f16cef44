package fsmeta

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTypeString(t *testing.T) {
	tests := []struct {
		t    Type
		want string
	}{
		{Regular, "regular"}, {Dir, "dir"}, {Symlink, "symlink"}, {FIFO, "fifo"},
		{CharDev, "chardev"}, {BlockDev, "blockdev"}, {Socket, "socket"},
		{0, "Type(0)"}, {8, "Type(8)"}, {255, "Type(255)"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.t.String(); got != tc.want {
				t.Errorf("Type(%d).String() = %q, want %q", uint8(tc.t), got, tc.want)
			}
		})
	}
}

func TestLstatTypes(t *testing.T) {
	requireRoot(t)
	dir, _ := testDir(t)
	tests := []struct {
		name   string
		create func(p string) error
		want   Meta // Type, Mode, Size, Rdev, LinkTarget are checked
	}{
		{"regular", func(p string) error { return os.WriteFile(p, []byte("hello"), 0o640) },
			Meta{Type: Regular, Mode: 0o640, Size: 5}},
		{"dir", func(p string) error { return os.Mkdir(p, 0o750) }, Meta{Type: Dir, Mode: 0o750}},
		{"symlink", func(p string) error { return os.Symlink("target\xff\xfe", p) },
			Meta{Type: Symlink, Mode: 0o777, Size: 8, LinkTarget: []byte("target\xff\xfe")}},
		{"fifo", func(p string) error { return unix.Mkfifo(p, 0o600) }, Meta{Type: FIFO, Mode: 0o600}},
		{"chardev", func(p string) error { return unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) },
			Meta{Type: CharDev, Mode: 0o666, Rdev: unix.Mkdev(1, 3)}},
		{"blockdev", func(p string) error { return unix.Mknod(p, unix.S_IFBLK|0o660, int(unix.Mkdev(7, 0))) },
			Meta{Type: BlockDev, Mode: 0o660, Rdev: unix.Mkdev(7, 0)}},
		{"socket", func(p string) error {
			l, err := net.Listen("unix", p)
			if err != nil {
				return err
			}
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			if err := l.Close(); err != nil {
				return err
			}
			return os.Chmod(p, 0o700)
		}, Meta{Type: Socket, Mode: 0o700}},
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := tc.create(p); err != nil {
				t.Fatalf("create: %v", err)
			}
			// Raw lstat first: Lstat's readlink may bump a symlink's atime.
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				t.Fatal(err)
			}
			m := mustLstat(t, p, ReadOptions{})
			if m.Type != tc.want.Type || m.Mode != tc.want.Mode || m.Rdev != tc.want.Rdev ||
				string(m.LinkTarget) != string(tc.want.LinkTarget) {
				t.Errorf("got type %v mode %#o rdev %#x target %q; want %v %#o %#x %q",
					m.Type, m.Mode, m.Rdev, m.LinkTarget, tc.want.Type, tc.want.Mode, tc.want.Rdev, tc.want.LinkTarget)
			}
			if tc.want.Type != Dir && m.Size != tc.want.Size {
				t.Errorf("size %d, want %d", m.Size, tc.want.Size)
			}
			if m.Inode != st.Ino || m.Device != st.Dev || m.Nlink != uint64(st.Nlink) ||
				m.Mtime != st.Mtim.Nano() || m.Ctime != st.Ctim.Nano() || m.Atime != st.Atim.Nano() {
				t.Errorf("stat fields differ: %+v vs %+v", m, st)
			}
		})
	}
}

func TestLstatSymlinkNotFollowed(t *testing.T) {
	dir, _ := testDir(t)
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	old := int64(1_000_000_000_123_456_789)
	ts := []unix.Timespec{unix.NsecToTimespec(old), unix.NsecToTimespec(old + 1)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, link, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	m := mustLstat(t, link, ReadOptions{})
	if m.Type != Symlink || string(m.LinkTarget) != target || m.Size != int64(len(target)) {
		t.Errorf("got %v %q size %d, want symlink to %q", m.Type, m.LinkTarget, m.Size, target)
	}
	if m.Atime != old || m.Mtime != old+1 {
		t.Errorf("times %d/%d, want the link's own %d/%d", m.Atime, m.Mtime, old, old+1)
	}
}

func TestLstatNames(t *testing.T) {
	requireRoot(t)
	dir, _ := testDir(t)
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		uid, gid        int
		o               ReadOptions
		wantUser, wantG string
	}{
		{"root", 0, 0, ReadOptions{}, "root", "root"},
		{"root numeric", 0, 0, ReadOptions{NumericIDs: true}, "", ""},
		{"unknown ids", 12345, 23456, ReadOptions{}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Lchown(p, tc.uid, tc.gid); err != nil {
				t.Fatal(err)
			}
			m := mustLstat(t, p, tc.o)
			if m.UID != uint32(tc.uid) || m.GID != uint32(tc.gid) || m.User != tc.wantUser || m.Group != tc.wantG {
				t.Errorf("got %d:%d %q:%q, want %d:%d %q:%q", m.UID, m.GID, m.User, m.Group,
					tc.uid, tc.gid, tc.wantUser, tc.wantG)
			}
		})
	}
}

func TestLstatNotExist(t *testing.T) {
	dir, _ := testDir(t)
	tests := []struct{ name, path string }{
		{"missing", filepath.Join(dir, "nope")},
		{"missing parent", filepath.Join(dir, "nope", "child")},
		{"vanished", func() string {
			p := filepath.Join(dir, "gone")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return p
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Lstat(tc.path, ReadOptions{})
			if !errors.Is(err, os.ErrNotExist) || m != nil {
				t.Errorf("Lstat(%q) = %v, %v; want error wrapping os.ErrNotExist", tc.path, m, err)
			}
		})
	}
}

func TestLstatInvalidUTF8Name(t *testing.T) {
	requireRoot(t)
	dir, df := testDir(t)
	name := "bad\xff\xfe\x80name"
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	requireXattr(t, dir, "user.gobak", []byte("v"))
	src := mustLstat(t, p, ReadOptions{})
	src.Mode, src.UID, src.Mtime, src.Atime = 0o604, 777, 1234567890123456789, 42
	src.Xattrs = []Xattr{{Name: "user.\xffodd", Value: []byte("\x00\xff")}}
	if err := Apply(df, name, src, ApplyOptions{NumericIDs: true}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := mustLstat(t, p, ReadOptions{})
	src.User = got.User
	sameMeta(t, src, got)
	if err := CreateSymlink(df, name+"\xfe-link", []byte(name)); err != nil {
		t.Fatal(err)
	}
	l := mustLstat(t, p+"\xfe-link", ReadOptions{})
	if string(l.LinkTarget) != name {
		t.Errorf("link target %q, want %q", l.LinkTarget, name)
	}
}

func TestFstat(t *testing.T) {
	requireRoot(t)
	dir, _ := testDir(t)
	requireXattr(t, dir, "user.gobak", []byte("v"))
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	setSource(t, p, &Meta{Type: Regular, Mode: 0o4751, UID: 12345, GID: 23456, Atime: 5, Mtime: 6,
		Xattrs: []Xattr{{"trusted.t", []byte("1")}, {"user.u", []byte("2")}}})
	link := filepath.Join(dir, "link")
	if err := os.Symlink("f", link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		flags int
	}{
		{"regular O_NOFOLLOW", p, unix.O_RDONLY | unix.O_NOFOLLOW},
		{"regular O_PATH", p, unix.O_PATH},
		{"symlink O_PATH", link, unix.O_PATH | unix.O_NOFOLLOW},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := unix.Open(tc.path, tc.flags|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f := os.NewFile(uintptr(fd), tc.path)
			defer f.Close()
			// A symlink's first readlink may bump its atime (relatime);
			// read once so that both reads below see the same atime.
			mustLstat(t, tc.path, ReadOptions{})
			want := mustLstat(t, tc.path, ReadOptions{})
			got, err := Fstat(f, ReadOptions{})
			if err != nil {
				t.Fatalf("Fstat: %v", err)
			}
			sameMeta(t, want, got)
			if got.Inode != want.Inode {
				t.Errorf("inode %d, want %d", got.Inode, want.Inode)
			}
		})
	}
	t.Run("closed", func(t *testing.T) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, err := Fstat(f, ReadOptions{}); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Fstat(closed) = %v, want os.ErrClosed", err)
		}
	})
}

func TestLstatConcurrent(t *testing.T) {
	dir, _ := testDir(t)
	var paths []string
	for i, uid := range []int{0, 1, 2, 12345, 65534} {
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, uid, uid); err != nil {
				t.Fatal(err)
			}
		}
		paths = append(paths, p)
	}
	want := make([]*Meta, len(paths))
	for i, p := range paths {
		want[i] = mustLstat(t, p, ReadOptions{})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(paths))
	for range 8 {
		wg.Go(func() {
			for i, p := range paths {
				m, err := Lstat(p, ReadOptions{})
				if err != nil {
					errs <- err
					continue
				}
				if m.User != want[i].User || m.Group != want[i].Group {
					errs <- errors.New("names differ between calls: " + m.User + "/" + want[i].User)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
