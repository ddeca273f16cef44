package archive_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/repo"
)

// TestRoundTripProperty builds random directory trees (every file type,
// sizes up to 20 MiB, sparse files, hardlinks, xattrs and ACLs, setuid
// bits, odd owners and names that are not UTF-8), backs each one up into
// a real repository and extracts it, and compares the two trees entry by
// entry: type, mode, owner, size, content, mtime and atime in ns, link
// targets, device numbers, xattrs and hardlink groups. It runs with and
// without encryption and with every codec.
func TestRoundTripProperty(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: owners, devices and trusted.* xattrs")
	}
	configs := []struct{ enc, suite, comp string }{
		{"repokey", "aes-256-gcm", "lz4"},
		{"repokey", "chacha20-poly1305", "zstd,3"},
		{"none", "", "s2"},
		{"repokey", "aes-256-gcm", "none"},
		{"repokey", "aes-256-gcm", "auto,zstd,10"},
	}
	for i, c := range configs {
		t.Run(fmt.Sprintf("%s-%s-%s", c.enc, c.suite, c.comp), func(t *testing.T) {
			seed := uint64(1000 + i)
			src := filepath.Join(t.TempDir(), "src")
			genTree(t, rand.New(rand.NewPCG(seed, seed)), src, i == 0)
			before := snapshot(t, src)
			r := newRepo(t, c.enc, crypto.Suite(c.suite), c.comp)
			ctx := context.Background()
			cfg := r.Config()
			rec, _, err := archive.Create(ctx, r, r, archive.CreateOptions{
				Name: "prop", Paths: []string{src}, Polynomial: cfg.Polynomial, Chunker: cfg.Chunker,
				Compression: c.comp,
				Warn:        func(p string, err error) { t.Errorf("create warning %s: %v", p, err) },
			})
			if err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			st, err := archive.Extract(ctx, r, rec, archive.ExtractOptions{
				Destination: dst, Sparse: true,
				Warn: func(p []byte, err error) { t.Errorf("extract warning %s: %v", p, err) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Damaged+st.Failed != 0 {
				t.Fatalf("extract stats %+v", st)
			}
			after := snapshot(t, filepath.Join(dst, src[1:]))
			compareTrees(t, before, after)
			// The generator must really have produced every kind of entry,
			// or this test proves less than it claims.
			kinds := map[fsmeta.Type]int{}
			var bytes, sparse, links, xattrs int64
			for _, e := range before {
				kinds[e.meta.Type]++
				bytes += int64(len(e.content))
				if e.meta.Type == fsmeta.Regular && e.blocks*512 < e.meta.Size/2 {
					sparse++
				}
				if e.link != "" {
					links++
				}
				if len(e.meta.Xattrs) > 0 {
					xattrs++
				}
			}
			t.Logf("%d entries %v, %d MiB, %d sparse, %d hardlinks, %d with xattrs", len(before), kinds, bytes>>20, sparse, links, xattrs)
			for _, k := range []fsmeta.Type{fsmeta.Regular, fsmeta.Dir, fsmeta.Symlink, fsmeta.FIFO} {
				if kinds[k] == 0 {
					t.Errorf("generated tree has no %v", k)
				}
			}
			if kinds[fsmeta.CharDev]+kinds[fsmeta.BlockDev] == 0 || sparse == 0 || links == 0 || xattrs == 0 {
				t.Errorf("generated tree lacks devices, sparse files, hardlinks or xattrs")
			}
		})
	}
}

func newRepo(t *testing.T, enc string, suite crypto.Suite, comp string) *repo.Repo {
	t.Helper()
	be, err := local.Create(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{
		Options:    repo.Options{Passphrase: func() ([]byte, error) { return []byte("pw"), nil }, CacheDir: t.TempDir()},
		Encryption: enc, Suite: suite, Compression: comp, KDF: crypto.TestKDF,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// aclBlob returns a valid system.posix_acl_access value granting user uid
// read access (version 2 header, then tag/perm/id entries).
func aclBlob(uid uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	entry := func(tag, perm uint16, id uint32) {
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	entry(0x01, 6, 0xffffffff) // user::rw-
	entry(0x02, 4, uid)        // user:uid:r--
	entry(0x04, 4, 0xffffffff) // group::r--
	entry(0x10, 4, 0xffffffff) // mask::r--
	entry(0x20, 4, 0xffffffff) // other::r--
	return b
}

func oddName(rng *rand.Rand, i int) string {
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("bad-\xff\xfe-%d", i)
	case 1:
		return fmt.Sprintf("with space and\nnewline %d", i)
	case 2:
		return fmt.Sprintf("-dash-%d", i)
	case 3:
		return fmt.Sprintf("%s-%d", bytes.Repeat([]byte("l"), 200), i)
	default:
		return fmt.Sprintf("f%d", i)
	}
}

func content(rng *rand.Rand, size int) []byte {
	b := make([]byte, size)
	switch rng.IntN(3) {
	case 0: // random
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	case 1: // text
		for i := range b {
			b[i] = "gobak backup \n"[i%14]
		}
	} // else zeros
	return b
}

// genTree makes a random tree under dir. big adds one 20 MiB file.
func genTree(t *testing.T, rng *rand.Rand, dir string, big bool) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	var dirs []string
	var mk func(d string, depth int)
	mk = func(d string, depth int) {
		must(os.MkdirAll(d, 0o755))
		dirs = append(dirs, d)
		// One of every kind first (so every tree has them all), then
		// random extras.
		n := 12 + rng.IntN(8)
		for i := 0; i < n; i++ {
			p := filepath.Join(d, oddName(rng, i))
			k := i
			if i >= 11 {
				k = rng.IntN(12)
			}
			if k == 7 && len(files) == 0 {
				k = 0
			}
			switch {
			case k < 5:
				size := rng.IntN(200 << 10)
				if rng.IntN(10) == 0 {
					size = rng.IntN(3 << 20)
				}
				must(os.WriteFile(p, content(rng, size), 0o644))
				files = append(files, p)
			case k == 5: // sparse
				f, err := os.Create(p)
				must(err)
				must(f.Truncate(int64(8<<20 + rng.IntN(1<<20))))
				for j := 0; j < 3; j++ {
					_, err := f.WriteAt(content(rng, 70000), int64(rng.IntN(8<<20)))
					must(err)
				}
				must(f.Close())
				files = append(files, p)
			case k == 6:
				targets := []string{"../up", "/etc/passwd", "dangling\xff", "f0"}
				must(os.Symlink(targets[rng.IntN(len(targets))], p))
			case k == 7 && len(files) > 0:
				must(os.Link(files[rng.IntN(len(files))], p))
			case k == 8:
				must(unix.Mkfifo(p, 0o640))
			case k == 9:
				dev := unix.Mkdev(1, 3)
				mode := uint32(syscall.S_IFCHR)
				if rng.IntN(2) == 0 {
					dev, mode = unix.Mkdev(7, uint32(rng.IntN(8))), syscall.S_IFBLK
				}
				must(unix.Mknod(p, mode|0o600, int(dev)))
			case depth < 2:
				mk(p, depth+1)
			default:
				must(os.WriteFile(p, content(rng, rng.IntN(5000)), 0o644))
				files = append(files, p)
			}
		}
	}
	mk(dir, 0)
	if big {
		p := filepath.Join(dir, "big")
		must(os.WriteFile(p, content(rng, 20<<20), 0o644))
		files = append(files, p)
	}
	// Metadata: owners, modes, xattrs, ACLs, then times (deepest first so
	// setting times of a child does not disturb its directory).
	all := append(slices.Clone(files), dirs...)
	for _, p := range all {
		uid, gid := 1000+rng.IntN(60000), 1000+rng.IntN(60000)
		must(os.Lchown(p, uid, gid))
		modes := []os.FileMode{0o644, 0o600, 0o755 | os.ModeSetuid, 0o2750 | os.ModeSetgid, 0o1777 | os.ModeSticky, 0o400}
		fi, err := os.Lstat(p)
		must(err)
		m := modes[rng.IntN(len(modes))]
		if fi.IsDir() {
			m |= 0o700 // keep directories walkable
		}
		must(os.Chmod(p, m))
		if rng.IntN(3) == 0 {
			must(unix.Lsetxattr(p, "user.note", content(rng, rng.IntN(100)), 0))
			must(unix.Lsetxattr(p, "trusted.x", []byte("t"), 0))
			must(unix.Lsetxattr(p, "security.gobak", content(rng, 1+rng.IntN(40)), 0))
		}
		if rng.IntN(4) == 0 {
			must(unix.Lsetxattr(p, "system.posix_acl_access", aclBlob(uint32(uid+1)), 0))
		}
	}
	slices.Reverse(dirs)
	for _, p := range append(files, dirs...) {
		at := unix.NsecToTimespec(rng.Int64N(2e18))
		mt := unix.NsecToTimespec(rng.Int64N(2e18))
		must(unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{at, mt}, unix.AT_SYMLINK_NOFOLLOW))
	}
}

// entry is what the comparison looks at for one path.
type entry struct {
	meta    fsmeta.Meta
	content []byte // regular files
	blocks  int64
	link    string // "" or the first path with the same inode
}

func snapshot(t *testing.T, root string) map[string]*entry {
	t.Helper()
	out := map[string]*entry{}
	firstByInode := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m, err := fsmeta.Lstat(p, fsmeta.ReadOptions{NumericIDs: true})
		if err != nil {
			return err
		}
		e := &entry{meta: *m}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err == nil {
			e.blocks = st.Blocks
		}
		if m.Type == fsmeta.Regular {
			// O_NOATIME: reading must not change what is compared.
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOATIME|unix.O_NOFOLLOW, 0)
			if err != nil {
				return err
			}
			f := os.NewFile(uintptr(fd), p)
			e.content, err = io.ReadAll(f)
			f.Close()
			if err != nil {
				return err
			}
			if m.Nlink > 1 {
				if first, ok := firstByInode[m.Inode]; ok {
					e.link = first
				} else {
					firstByInode[m.Inode] = rel
				}
			}
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareTrees(t *testing.T, want, got map[string]*entry) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%q: missing after extract", p)
			continue
		}
		wm, gm := w.meta, g.meta
		check := func(what string, a, b any) {
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("%q: %s: extracted %v, want %v", p, what, b, a)
			}
		}
		check("type", wm.Type, gm.Type)
		check("mode", fmt.Sprintf("%o", wm.Mode), fmt.Sprintf("%o", gm.Mode))
		check("uid", wm.UID, gm.UID)
		check("gid", wm.GID, gm.GID)
		check("rdev", wm.Rdev, gm.Rdev)
		check("link target", string(wm.LinkTarget), string(gm.LinkTarget))
		check("xattrs", wm.Xattrs, gm.Xattrs)
		if wm.Type != fsmeta.Dir {
			check("size", wm.Size, gm.Size)
		}
		check("mtime", wm.Mtime, gm.Mtime)
		if wm.Type != fsmeta.Dir && wm.Type != fsmeta.Symlink {
			check("atime", wm.Atime, gm.Atime)
		}
		if wm.Type == fsmeta.Regular {
			if !bytes.Equal(w.content, g.content) {
				t.Errorf("%q: content differs", p)
			}
			if g.blocks > w.blocks+64 { // sparse files stay sparse (within 32 KiB)
				t.Errorf("%q: %d blocks extracted, source has %d: holes not restored", p, g.blocks, w.blocks)
			}
			if (w.link == "") != (g.link == "") {
				t.Errorf("%q: hardlink group differs (source first=%q, extracted first=%q)", p, w.link, g.link)
			}
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%q: extra entry after extract", p)
		}
	}
}
