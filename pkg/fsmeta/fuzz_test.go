package fsmeta

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzApply feeds Apply, Mknod and CreateSymlink the kind of metadata a
// decoded (possibly hostile) tree could carry: arbitrary names, types,
// modes, device numbers, link targets, xattrs and times. Whatever happens,
// nothing may panic and nothing outside the destination directory may
// change, even though the destination holds symlinks pointing outside.
func FuzzApply(f *testing.F) {
	f.Add("x", uint8(Regular), uint32(0o4777), uint64(0), []byte("/"), "user.a", []byte("v"), int64(1), int64(2))
	f.Add("file", uint8(Regular), uint32(0o644), uint64(0), []byte("t"), "trusted.a", []byte{}, int64(-1), int64(1e18))
	f.Add("dir", uint8(Dir), uint32(0o1777), uint64(0), []byte("t"), "system.posix_acl_access", testACL, int64(0), int64(0))
	f.Add("new", uint8(Symlink), uint32(0o777), uint64(0), []byte("../outside/victim"), "security.a", []byte("s"), int64(5), int64(6))
	f.Add("fifo", uint8(FIFO), uint32(0o600), uint64(0), []byte("x"), "user.\x00", []byte("x"), int64(5), int64(6))
	f.Add("dev", uint8(CharDev), uint32(0o666), uint64(0x103), []byte("x"), "security.capability", capXattr, int64(5), int64(6))
	f.Add("dev", uint8(BlockDev), uint32(0o666), uint64(1<<63), []byte("x"), "", []byte(nil), int64(-1<<63), int64(1<<63-1))
	f.Add("..", uint8(Dir), uint32(0o777), uint64(0), []byte(""), "user.a", []byte("v"), int64(1), int64(2))
	f.Add("x/..", uint8(0), uint32(0xffffffff), uint64(0), []byte("\xff"), "bogus", []byte("v"), int64(1), int64(2))
	f.Add(".", uint8(Dir), uint32(0o755), uint64(0), []byte("."), "user.a", []byte("v"), int64(1), int64(2))
	f.Add("sock", uint8(Socket), uint32(0o755), uint64(0), []byte("x"), "trusted.b", []byte("v"), int64(1), int64(2))

	f.Fuzz(func(t *testing.T, name string, typ uint8, mode uint32, rdev uint64, target []byte,
		xname string, xvalue []byte, atime, mtime int64) {
		root := t.TempDir()
		outside := filepath.Join(root, "outside")
		dest := filepath.Join(root, "dest")
		for _, d := range []string{outside, dest} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		victim := filepath.Join(outside, "victim")
		if err := os.WriteFile(victim, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		for n, tgt := range map[string]string{"x": victim, "d": outside, "rel": "../outside/victim"} {
			if err := os.Symlink(tgt, filepath.Join(dest, n)); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"file", "fifo", "dev", "sock", "new", "dir"} {
			if err := os.WriteFile(filepath.Join(dest, n), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		before := snapshot(t, root, dest)

		df, err := os.Open(dest)
		if err != nil {
			t.Fatal(err)
		}
		defer df.Close()
		m := &Meta{Type: Type(typ), Mode: mode, UID: mode >> 8, GID: mode >> 16, Rdev: rdev, LinkTarget: target,
			Atime: atime, Mtime: mtime, Xattrs: []Xattr{{Name: xname, Value: xvalue}}}
		_ = Mknod(df, name, m)
		_ = CreateSymlink(df, name, target)
		_ = Apply(df, name, m, ApplyOptions{NumericIDs: typ%2 == 0})
		_ = Apply(df, name, m, ApplyOptions{NoOwner: true, NoXattrs: true})

		if after := snapshot(t, root, dest); !reflect.DeepEqual(before, after) {
			t.Fatalf("something outside the destination changed:\nbefore %+v\nafter  %+v", before, after)
		}
	})
}

// snapshot records the full metadata of everything under root except the
// destination directory's content (the destination itself is included
// only as a name in root, whose metadata is allowed to change).
func snapshot(t *testing.T, root, dest string) map[string]Meta {
	t.Helper()
	out := make(map[string]Meta)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dest {
			return filepath.SkipDir
		}
		m, err := Lstat(p, ReadOptions{NumericIDs: true})
		if err != nil {
			return err
		}
		if m.Type == Dir {
			m.Atime = 0 // the walk itself reads directories
		}
		out[p] = *m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
