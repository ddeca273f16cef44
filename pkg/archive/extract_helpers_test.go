package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/fsmeta"
	"github.com/gobak/gobak/pkg/id"
)

// xt is a test archive entry: a node, a file's content, a directory's
// children. Helpers below build them; xtSave stores them.
type xt struct {
	node     Node
	data     []byte // regular file content
	holes    bool   // store all-zero chunks of data as holes
	children []xt
}

// Fixed, distinct nanosecond times, so that restoring them is checked.
const (
	xtMtime = int64(1_700_000_000_123_456_789)
	xtAtime = int64(1_700_000_100_987_654_321)
)

func xtDir(name string, mode uint32, children ...xt) xt {
	return xt{node: Node{Name: []byte(name), Type: TypeDir, Mode: mode, Mtime: xtMtime + 7, Atime: xtAtime}, children: children}
}

func xtFile(name string, mode uint32, data []byte) xt {
	return xt{node: Node{Name: []byte(name), Type: TypeFile, Mode: mode, Mtime: xtMtime, Atime: xtAtime, Size: uint64(len(data))}, data: data}
}

func xtLink(name, target string) xt {
	return xt{node: Node{Name: []byte(name), Type: TypeSymlink, Mode: 0o777, Mtime: xtMtime + 3, Atime: xtAtime, LinkTarget: []byte(target)}}
}

// with modifies the node.
func (e xt) with(fn func(n *Node)) xt {
	fn(&e.node)
	return e
}

// xtChunk is the chunk size test files are cut into.
const xtChunk = 64 << 10

// xtSave stores entries as a root tree (splitting trees larger than
// maxTree bytes; 0 means never) and returns its ID.
func xtSave(t testing.TB, cs ChunkStore, maxTree int, entries ...xt) id.ID {
	t.Helper()
	ctx := context.Background()
	save := func(data []byte) (id.ID, error) {
		b, _, err := cs.SaveBlob(ctx, id.TreeBlob, data)
		return b, err
	}
	if maxTree == 0 {
		maxTree = 1 << 30
	}
	nodes := make([]Node, 0, len(entries))
	for _, e := range entries {
		n := e.node
		switch n.Type {
		case TypeDir:
			n.SetSubtree(xtSave(t, cs, maxTree, e.children...))
		case TypeFile:
			n.Content = nil
			for off := 0; off < len(e.data); off += xtChunk {
				c := e.data[off:min(off+xtChunk, len(e.data))]
				if e.holes && bytes.Equal(c, make([]byte, len(c))) {
					n.Content = append(n.Content, HoleExtent(uint64(len(c))))
					continue
				}
				b, _, err := cs.SaveBlob(ctx, id.DataBlob, c)
				if err != nil {
					t.Fatal(err)
				}
				n.Content = append(n.Content, DataExtent(b, uint64(len(c))))
			}
		}
		nodes = append(nodes, n)
	}
	sortNodes(nodes)
	root, err := SplitTree(nodes, maxTree, save)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// sortNodes sorts by name (test entries are written in any order).
func sortNodes(nodes []Node) {
	for i := 1; i < len(nodes); i++ {
		for j := i; j > 0 && bytes.Compare(nodes[j-1].Name, nodes[j].Name) > 0; j-- {
			nodes[j-1], nodes[j] = nodes[j], nodes[j-1]
		}
	}
}

// xtRecord returns a record for the tree.
func xtRecord(tree id.ID) *Record {
	return &Record{Version: RecordVersion, Name: "test", Tree: tree[:], Start: "2026-03-14T02:00:00+01:00", End: "2026-03-14T02:01:00+01:00"}
}

// xtWarnings collects Warn calls.
type xtWarnings struct {
	mu   sync.Mutex
	list []string
	errs []error
}

func (w *xtWarnings) warn(path []byte, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, string(path))
	w.errs = append(w.errs, err)
}

func (w *xtWarnings) String() string {
	var b bytes.Buffer
	for i, p := range w.list {
		fmt.Fprintf(&b, "%s: %v\n", p, w.errs[i])
	}
	return b.String()
}

// xtExtract extracts rec into a new directory and returns it.
func xtExtract(t *testing.T, cs ChunkStore, rec *Record, o ExtractOptions) (string, ExtractStats, *xtWarnings) {
	t.Helper()
	w := &xtWarnings{}
	if o.Destination == "" {
		o.Destination = filepath.Join(t.TempDir(), "dest")
	}
	o.Warn = w.warn
	st, err := Extract(context.Background(), cs, rec, o)
	if err != nil {
		t.Fatalf("Extract: %v\nwarnings:\n%s", err, w)
	}
	return o.Destination, st, w
}

// xtCompare checks that dest holds exactly the entries of the archive tree
// (all of them, with their content and metadata).
func xtCompare(t *testing.T, cs ChunkStore, tree id.ID, dest string) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	var files []*Node
	var paths [][]byte
	err := Walk(ctx, cs, tree, func(p []byte, n *Node) error {
		seen[string(p)] = true
		xtCompareNode(t, filepath.Join(dest, string(p)), p, n)
		if n.Type == TypeFile {
			files, paths = append(files, n), append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Content last: reading changes atimes (of hard links too).
	for i, n := range files {
		got, err := os.ReadFile(filepath.Join(dest, string(paths[i])))
		if err != nil {
			t.Errorf("%q: %v", paths[i], err)
			continue
		}
		if want := xtContent(t, cs, n); !bytes.Equal(got, want) {
			t.Errorf("%q: content differs (%d bytes, want %d)", paths[i], len(got), len(want))
		}
	}
	err = filepath.Walk(dest, func(path string, _ os.FileInfo, err error) error {
		if err != nil || path == dest {
			return err
		}
		rel, _ := filepath.Rel(dest, path)
		if !seen[rel] {
			t.Errorf("extracted %q is not in the archive", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// xtCompareNode compares one restored entry with its node.
func xtCompareNode(t *testing.T, path string, p []byte, n *Node) {
	t.Helper()
	m, err := fsmeta.Lstat(path, fsmeta.ReadOptions{NumericIDs: true})
	if err != nil {
		t.Errorf("%q: %v", p, err)
		return
	}
	if m.Type != restoreType(n.Type) {
		t.Errorf("%q: type %v, want %v", p, m.Type, n.Type)
		return
	}
	if n.Type != TypeSymlink && m.Mode != n.Mode {
		t.Errorf("%q: mode %#o, want %#o", p, m.Mode, n.Mode)
	}
	if os.Geteuid() == 0 && (m.UID != n.UID || m.GID != n.GID) {
		t.Errorf("%q: owner %d:%d, want %d:%d", p, m.UID, m.GID, n.UID, n.GID)
	}
	if m.Mtime != n.Mtime {
		t.Errorf("%q: mtime %d, want %d", p, m.Mtime, n.Mtime)
	}
	if n.Type != TypeDir && m.Atime != n.Atime {
		t.Errorf("%q: atime %d, want %d", p, m.Atime, n.Atime)
	}
	if !bytes.Equal(m.LinkTarget, n.LinkTarget) {
		t.Errorf("%q: link target %q, want %q", p, m.LinkTarget, n.LinkTarget)
	}
	if m.Rdev != n.Rdev {
		t.Errorf("%q: rdev %#x, want %#x", p, m.Rdev, n.Rdev)
	}
	for _, x := range n.Xattrs {
		found := false
		for _, y := range m.Xattrs {
			if y.Name == string(x.Name) {
				found = true
				if !bytes.Equal(y.Value, x.Value) {
					t.Errorf("%q: xattr %s = %q, want %q", p, x.Name, y.Value, x.Value)
				}
			}
		}
		if !found {
			t.Errorf("%q: xattr %s missing", p, x.Name)
		}
	}
}

// xtContent assembles a file node's content from the store.
func xtContent(t *testing.T, cs ChunkStore, n *Node) []byte {
	t.Helper()
	ex, err := Extents(context.Background(), cs, n)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, e := range ex {
		if e.IsHole() {
			out = append(out, make([]byte, e.Size)...)
			continue
		}
		d, err := cs.LoadBlob(context.Background(), e.BlobID(), nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d...)
	}
	return out
}

// xtVerifying checks blob IDs on load, as *repo.Repo does, so that
// archivetest.Store.Corrupt is detected.
type xtVerifying struct{ *archivetest.Store }

var errXTDamaged = errors.New("blob damaged")

func (v xtVerifying) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	data, err := v.Store.LoadBlob(ctx, b, dst)
	if err == nil && v.BlobID(data) != b {
		return nil, fmt.Errorf("blob %s: %w", b.Short(), errXTDamaged)
	}
	return data, err
}

// xtACL encodes a POSIX access ACL (system.posix_acl_access) granting
// user uid read access besides the owner/group/other bits.
func xtACL(uid uint32) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 2)
	entry := func(tag, perm uint16, id uint32) {
		b = binary.LittleEndian.AppendUint16(b, tag)
		b = binary.LittleEndian.AppendUint16(b, perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	const undefined = 0xffffffff
	entry(0x01, 6, undefined) // USER_OBJ rw-
	entry(0x02, 4, uid)       // USER uid r--
	entry(0x04, 4, undefined) // GROUP_OBJ r--
	entry(0x10, 4, undefined) // MASK r--
	entry(0x20, 4, undefined) // OTHER r--
	return b
}

// xtBlocks returns the 512-byte blocks allocated to a file.
func xtBlocks(t *testing.T, path string) int64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks
}

// xtRandom returns n pseudo-random bytes (deterministic per seed).
func xtRandom(seed uint64, n int) []byte {
	out := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = byte(x)
	}
	return out
}
