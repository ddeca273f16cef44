package fsmeta

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Nanosecond times used for sources: one before 1970, one far ahead.
const (
	testAtime = int64(1_234_567_890_123_456_789)
	testMtime = int64(-123_456_789)
)

// roundTripCase describes one kind of entry for TestApplyRoundTrip.
type roundTripCase struct {
	name   string
	meta   Meta // Type, Mode, UID, GID, Xattrs, Rdev are set on the source
	create func(t *testing.T, path string, m *Meta)
	probe  []string // xattr names whose namespace must be supported
}

func createRegular(t *testing.T, p string, _ *Meta) {
	t.Helper()
	if err := os.WriteFile(p, []byte("some content"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func createDir(t *testing.T, p string, _ *Meta) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
}

func createNode(t *testing.T, p string, m *Meta) {
	t.Helper()
	d, err := os.Open(filepath.Dir(p))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := Mknod(d, filepath.Base(p), m); err != nil {
		t.Fatalf("Mknod: %v", err)
	}
}

func createSocket(t *testing.T, p string, _ *Meta) {
	t.Helper()
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

func roundTripCases() []roundTripCase {
	linkTarget := []byte("../\xff\xfeno-utf8/target")
	return []roundTripCase{
		{"regular setuid caps", Meta{Type: Regular, Mode: 0o6755, UID: 12345, GID: 23456, Xattrs: []Xattr{
			{"security.capability", capXattr},
			{"security.gobak", []byte("sec")},
			{"trusted.gobak", []byte{0, 1, 2, 0xff}},
			{"user.empty", []byte{}},
			{"user.gobak", []byte("user value")},
		}}, createRegular, []string{"user.x", "trusted.x", "security.x"}},
		{"regular acl", Meta{Type: Regular, Mode: 0o664, UID: 12345, GID: 23456, Xattrs: []Xattr{
			{"system.posix_acl_access", testACL},
		}}, createRegular, []string{"system.posix_acl_access"}},
		// The ACL decides the rwx bits: rw-rw-r--.
		{"dir sticky setgid acl", Meta{Type: Dir, Mode: 0o3664, UID: 12345, GID: 23456, Xattrs: []Xattr{
			{"system.posix_acl_access", testACL},
			{"system.posix_acl_default", testACL},
			{"trusted.gobak", []byte("t")},
			{"user.gobak", []byte("u")},
		}}, createDir, []string{"user.x", "trusted.x", "system.posix_acl_access"}},
		{"symlink", Meta{Type: Symlink, Mode: 0o777, UID: 12345, GID: 23456, LinkTarget: linkTarget, Xattrs: []Xattr{
			{"security.gobak", []byte("s")},
			{"trusted.gobak", []byte("t")},
		}}, func(t *testing.T, p string, m *Meta) {
			t.Helper()
			if err := os.Symlink(string(m.LinkTarget), p); err != nil {
				t.Fatal(err)
			}
		}, []string{"trusted.x", "security.x"}},
		{"fifo", Meta{Type: FIFO, Mode: 0o1620, UID: 12345, GID: 23456, Xattrs: []Xattr{
			{"trusted.gobak", []byte("t")},
		}}, createNode, []string{"trusted.x"}},
		{"chardev", Meta{Type: CharDev, Mode: 0o666, UID: 0, GID: 23456, Rdev: unix.Mkdev(1, 3), Xattrs: []Xattr{
			{"security.gobak", []byte("s")},
		}}, createNode, []string{"security.x"}},
		{"blockdev", Meta{Type: BlockDev, Mode: 0o2660, UID: 12345, GID: 6, Rdev: unix.Mkdev(7, 0)}, createNode, nil},
		{"socket", Meta{Type: Socket, Mode: 0o4755, UID: 12345, GID: 23456, Xattrs: []Xattr{
			{"trusted.gobak", []byte("t")},
		}}, createSocket, []string{"trusted.x"}},
	}
}

// TestApplyRoundTrip gives a source entry of every type unusual metadata,
// reads it with Lstat, creates a fresh entry, applies the metadata and
// checks that Lstat reads back the same (except inode, device and ctime).
// It runs with the default code path and with the /proc fallbacks used on
// kernels without fchmodat2 or utimensat(AT_EMPTY_PATH).
func TestApplyRoundTrip(t *testing.T) {
	requireRoot(t)
	for _, cfg := range []struct {
		name       string
		emptyPaths bool
	}{{"default", true}, {"proc fallback", false}} {
		t.Run(cfg.name, func(t *testing.T) {
			defer func(old bool) { useEmptyPath = old }(useEmptyPath)
			useEmptyPath = cfg.emptyPaths
			for _, tc := range roundTripCases() {
				t.Run(tc.name, func(t *testing.T) {
					testRoundTrip(t, tc)
				})
			}
		})
	}
}

func testRoundTrip(t *testing.T, tc roundTripCase) {
	t.Helper()
	srcDir, _ := testDir(t)
	dstDir, dst := testDir(t)
	for _, n := range tc.probe {
		v := []byte("probe")
		if strings.HasPrefix(n, "system.posix_acl") {
			v = testACL
		}
		requireXattr(t, srcDir, n, v)
	}
	src := filepath.Join(srcDir, "entry")
	want := tc.meta
	want.Atime, want.Mtime = testAtime, testMtime
	tc.create(t, src, &want)
	setSource(t, src, &want)
	sm := mustLstat(t, src, ReadOptions{NumericIDs: true})
	if sm.Type != tc.meta.Type || sm.Mode != tc.meta.Mode || sm.UID != tc.meta.UID || sm.GID != tc.meta.GID ||
		sm.Atime != testAtime || sm.Mtime != testMtime || sm.Rdev != tc.meta.Rdev {
		t.Fatalf("source not set up as intended: %+v", sm)
	}
	if got, want := xattrMap(sm.Xattrs), xattrMap(tc.meta.Xattrs); len(got) < len(want) {
		t.Fatalf("source xattrs %q, want at least %q", got, want)
	}
	tc.create(t, filepath.Join(dstDir, "entry"), sm)
	if err := Apply(dst, "entry", sm, ApplyOptions{NumericIDs: true}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	dm := mustLstat(t, filepath.Join(dstDir, "entry"), ReadOptions{NumericIDs: true})
	sameMeta(t, sm, dm)
}

func TestApplySymlinkNotFollowed(t *testing.T) {
	requireRoot(t)
	outDir, _ := testDir(t)
	victim := filepath.Join(outDir, "victim")
	if err := os.WriteFile(victim, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	victimDir := filepath.Join(outDir, "vdir")
	if err := os.Mkdir(victimDir, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, df := testDir(t)
	for name, target := range map[string]string{"x": victim, "d": victimDir, "rel": "../../" + filepath.Base(filepath.Dir(outDir)) + "/" + filepath.Base(outDir) + "/victim"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]*Meta{victim: mustLstat(t, victim, ReadOptions{}), victimDir: mustLstat(t, victimDir, ReadOptions{})}
	evil := []Xattr{{"trusted.evil", []byte("1")}}
	tests := []struct {
		name    string
		entry   string
		m       Meta
		wantErr error
	}{
		{"regular meta on symlink", "x", Meta{Type: Regular, Mode: 0o4777, UID: 12345, GID: 12345, Xattrs: evil, Mtime: 1}, ErrTypeMismatch},
		{"dir meta on symlink to dir", "d", Meta{Type: Dir, Mode: 0o777, UID: 12345, Xattrs: evil, Mtime: 1}, ErrTypeMismatch},
		{"relative symlink", "rel", Meta{Type: Regular, Mode: 0o777, Mtime: 1}, ErrTypeMismatch},
		{"symlink meta on symlink", "x", Meta{Type: Symlink, Mode: 0o777, UID: 12345, GID: 23456, Xattrs: evil, Atime: 7, Mtime: 8}, nil},
		{"trailing slash", "x/", Meta{Type: Regular, Mode: 0o777}, ErrInvalidName},
		{"through symlink dir", "d/../x", Meta{Type: Regular, Mode: 0o777}, ErrInvalidName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Apply(df, tc.entry, &tc.m, ApplyOptions{NumericIDs: true})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Apply = %v, want %v", err, tc.wantErr)
			}
			for p, b := range before {
				if a := mustLstat(t, p, ReadOptions{}); !sameIncludingCtime(a, b) {
					t.Errorf("%s changed:\nbefore %+v\nafter  %+v", p, b, a)
				}
			}
			if tc.wantErr == nil {
				l := mustLstat(t, filepath.Join(dir, tc.entry), ReadOptions{NumericIDs: true})
				if l.UID != tc.m.UID || l.GID != tc.m.GID || l.Atime != tc.m.Atime || l.Mtime != tc.m.Mtime ||
					xattrMap(l.Xattrs)["trusted.evil"] != "1" {
					t.Errorf("symlink itself not updated: %+v", l)
				}
			}
		})
	}
	t.Run("create over symlink", func(t *testing.T) {
		if err := Mknod(df, "x", &Meta{Type: FIFO, Mode: 0o666}); !errors.Is(err, os.ErrExist) {
			t.Errorf("Mknod over symlink = %v, want os.ErrExist", err)
		}
		if err := CreateSymlink(df, "x", []byte("/")); !errors.Is(err, os.ErrExist) {
			t.Errorf("CreateSymlink over symlink = %v, want os.ErrExist", err)
		}
		if a := mustLstat(t, victim, ReadOptions{}); !sameIncludingCtime(a, before[victim]) {
			t.Errorf("victim changed")
		}
	})
}

// sameIncludingCtime reports whether a and b are identical, ctime and inode
// included, so that any change at all to a file is noticed.
func sameIncludingCtime(a, b *Meta) bool { return reflect.DeepEqual(a, b) }

func TestApplyOwner(t *testing.T) {
	requireRoot(t)
	dir, df := testDir(t)
	tests := []struct {
		name     string
		m        Meta
		o        ApplyOptions
		uid, gid uint32
	}{
		{"numeric ignores names", Meta{UID: 12345, GID: 23456, User: "root", Group: "root"}, ApplyOptions{NumericIDs: true}, 12345, 23456},
		{"names win", Meta{UID: 12345, GID: 23456, User: "root", Group: "root"}, ApplyOptions{}, 0, 0},
		{"unknown names fall back", Meta{UID: 12345, GID: 23456, User: "gobak-no-such-user", Group: "gobak-no-such-group"}, ApplyOptions{}, 12345, 23456},
		{"empty names", Meta{UID: 4242, GID: 4343}, ApplyOptions{}, 4242, 4343},
		{"no owner", Meta{UID: 12345, GID: 23456}, ApplyOptions{NoOwner: true}, 0, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := string(rune('a' + i))
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			m := tc.m
			m.Type, m.Mode = Regular, 0o6711
			if err := Apply(df, name, &m, tc.o); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			got := mustLstat(t, filepath.Join(dir, name), ReadOptions{})
			if got.UID != tc.uid || got.GID != tc.gid || got.Mode != 0o6711 {
				t.Errorf("got %d:%d mode %#o, want %d:%d mode 06711", got.UID, got.GID, got.Mode, tc.uid, tc.gid)
			}
		})
	}
}

// TestApplyContinuesAfterError checks that a failing xattr is reported by
// name and does not stop the mode, the other xattrs and the times.
func TestApplyContinuesAfterError(t *testing.T) {
	dir, df := testDir(t)
	requireXattr(t, dir, "user.x", []byte("v"))
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Meta{Type: Regular, Mode: 0o640, UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()),
		Atime: 111, Mtime: 222, Xattrs: []Xattr{
			{"bogus.ns", []byte("x")},
			{"system.posix_acl_access", []byte("not an acl")},
			{"user.ok", []byte("fine")},
		}}
	err := Apply(df, "f", m, ApplyOptions{NumericIDs: true})
	if err == nil {
		t.Fatal("Apply succeeded with invalid xattrs")
	}
	for _, s := range []string{`"bogus.ns"`, `"system.posix_acl_access"`, `"f"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("error %v does not wrap EOPNOTSUPP", err)
	}
	got := mustLstat(t, p, ReadOptions{})
	if got.Mode != 0o640 || got.Atime != 111 || got.Mtime != 222 || xattrMap(got.Xattrs)["user.ok"] != "fine" {
		t.Errorf("rest not applied: %+v", got)
	}
}

// TestApplyWithoutProc forces the path taken when /proc is not mounted and
// the kernel lacks fchmodat2: regular files and directories still work by
// reopening, other types report ErrNoProc but still get owner and times.
func TestApplyWithoutProc(t *testing.T) {
	requireRoot(t)
	defer func(h func() bool, e bool) { haveProc, useEmptyPath = h, e }(haveProc, useEmptyPath)
	haveProc, useEmptyPath = func() bool { return false }, false
	for _, tc := range roundTripCases() {
		if tc.meta.Type == Regular || tc.meta.Type == Dir {
			t.Run(tc.name, func(t *testing.T) { testRoundTrip(t, tc) })
		}
	}
	t.Run("fifo", func(t *testing.T) {
		dir, df := testDir(t)
		m := &Meta{Type: FIFO, Mode: 0o640, UID: 12345, GID: 23456, Atime: 5, Mtime: 6}
		if err := Mknod(df, "p", m); err != nil {
			t.Fatal(err)
		}
		err := Apply(df, "p", m, ApplyOptions{NumericIDs: true})
		if !errors.Is(err, ErrNoProc) {
			t.Errorf("Apply = %v, want ErrNoProc", err)
		}
		got := mustLstat(t, filepath.Join(dir, "p"), ReadOptions{})
		if got.UID != 12345 || got.GID != 23456 || got.Atime != 5 || got.Mtime != 6 {
			t.Errorf("owner/times not applied: %+v", got)
		}
	})
	t.Run("symlink times", func(t *testing.T) {
		dir, df := testDir(t)
		if err := CreateSymlink(df, "l", []byte("/etc/passwd")); err != nil {
			t.Fatal(err)
		}
		before := mustLstat(t, "/etc/passwd", ReadOptions{})
		if err := Apply(df, "l", &Meta{Type: Symlink, Atime: 5, Mtime: 6}, ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		got := mustLstat(t, filepath.Join(dir, "l"), ReadOptions{})
		if got.Atime != 5 || got.Mtime != 6 {
			t.Errorf("times not applied: %+v", got)
		}
		if after := mustLstat(t, "/etc/passwd", ReadOptions{}); !sameIncludingCtime(before, after) {
			t.Errorf("symlink target changed")
		}
	})
}

func TestApplyInvalid(t *testing.T) {
	_, df := testDir(t)
	if err := os.WriteFile(filepath.Join(df.Name(), "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	closed, err := os.Open(df.Name())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	reg := &Meta{Type: Regular, Mode: 0o600}
	tests := []struct {
		name  string
		dir   *os.File
		entry string
		m     *Meta
		want  error
	}{
		{"empty name", df, "", reg, ErrInvalidName},
		{"dotdot", df, "..", reg, ErrInvalidName},
		{"slash", df, "a/b", reg, ErrInvalidName},
		{"absolute", df, "/etc/passwd", reg, ErrInvalidName},
		{"nul", df, "f\x00", reg, ErrInvalidName},
		{"nil dir", nil, "f", reg, os.ErrInvalid},
		{"nil meta", df, "f", nil, os.ErrInvalid},
		{"zero type", df, "f", &Meta{}, ErrUnknownType},
		{"bad type", df, "f", &Meta{Type: 99}, ErrUnknownType},
		{"missing", df, "nope", reg, os.ErrNotExist},
		{"wrong type", df, "f", &Meta{Type: Dir}, ErrTypeMismatch},
		{"closed dir", closed, "f", reg, os.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Apply(tc.dir, tc.entry, tc.m, ApplyOptions{NoOwner: true}); !errors.Is(err, tc.want) {
				t.Errorf("Apply = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("dot is the directory", func(t *testing.T) {
		if err := Apply(df, ".", &Meta{Type: Dir, Mode: 0o751, Mtime: 3}, ApplyOptions{NoOwner: true}); err != nil {
			t.Fatal(err)
		}
		if m := mustLstat(t, df.Name(), ReadOptions{}); m.Mode != 0o751 || m.Mtime != 3 {
			t.Errorf("got mode %#o mtime %d", m.Mode, m.Mtime)
		}
	})
}

func TestMknodAndSymlinkErrors(t *testing.T) {
	_, df := testDir(t)
	if err := os.WriteFile(filepath.Join(df.Name(), "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"mknod regular", Mknod(df, "a", &Meta{Type: Regular}), ErrUnknownType},
		{"mknod dir", Mknod(df, "a", &Meta{Type: Dir}), ErrUnknownType},
		{"mknod rdev out of range", Mknod(df, "a", &Meta{Type: CharDev, Rdev: unix.Mkdev(5000, 1)}), os.ErrInvalid},
		{"mknod rdev junk", Mknod(df, "a", &Meta{Type: BlockDev, Rdev: 1 << 63}), os.ErrInvalid},
		{"mknod exists", Mknod(df, "f", &Meta{Type: FIFO}), os.ErrExist},
		{"mknod bad name", Mknod(df, "../a", &Meta{Type: FIFO}), ErrInvalidName},
		{"mknod dot", Mknod(df, ".", &Meta{Type: FIFO}), ErrInvalidName},
		{"mknod nil", Mknod(df, "a", nil), os.ErrInvalid},
		{"symlink empty target", CreateSymlink(df, "a", nil), os.ErrInvalid},
		{"symlink nul target", CreateSymlink(df, "a", []byte("a\x00b")), os.ErrInvalid},
		{"symlink exists", CreateSymlink(df, "f", []byte("x")), os.ErrExist},
		{"symlink bad name", CreateSymlink(df, "a/b", []byte("x")), ErrInvalidName},
		{"symlink nil dir", CreateSymlink(nil, "a", []byte("x")), os.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(df.Name(), "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed call created an entry: %v", err)
	}
}
