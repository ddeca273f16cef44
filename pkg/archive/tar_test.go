package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// tarBatchStore adds LoadBlobs to the test store, delivering the blobs in
// reverse order (as a real store delivers them in storage order).
type tarBatchStore struct {
	*archivetest.Store
	mu    sync.Mutex
	calls int
}

func (s *tarBatchStore) LoadBlobs(ctx context.Context, ids []id.ID, fn func(i int, data []byte, err error) error) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	for i := len(ids) - 1; i >= 0; i-- {
		data, err := s.LoadBlob(ctx, ids[i], nil)
		if err := fn(i, data, err); err != nil {
			return err
		}
	}
	return nil
}

// failStore fails to load the blobs in bad.
type failStore struct {
	*archivetest.Store
	bad map[id.ID]bool
}

func (s *failStore) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	if s.bad[b] {
		return nil, errors.New("simulated damage")
	}
	return s.Store.LoadBlob(ctx, b, dst)
}

// tarRead decodes a tar stream into its headers and contents, requiring
// the end-of-archive marker.
func tarRead(t *testing.T, data []byte) ([]*tar.Header, [][]byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var hdrs []*tar.Header
	var bodies [][]byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("entry %d: %v", len(hdrs), err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdrs, bodies = append(hdrs, h), append(bodies, b)
	}
	if len(data) < 1024 || !bytes.Equal(data[len(data)-1024:], make([]byte, 1024)) {
		t.Errorf("no end-of-archive blocks")
	}
	return hdrs, bodies
}

// tarExport runs ExportTar and returns the stream, the stats and the
// warnings.
func tarExport(t *testing.T, cs ChunkStore, tree id.ID, o ExportTarOptions) ([]byte, ExportTarStats, *xtWarnings) {
	t.Helper()
	var buf bytes.Buffer
	w := &xtWarnings{}
	o.Warn = w.warn
	st, err := ExportTar(context.Background(), cs, xtRecord(tree), &buf, o)
	if err != nil {
		t.Fatalf("ExportTar: %v\nwarnings:\n%s", err, w)
	}
	return buf.Bytes(), st, w
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func TestExportTarContent(t *testing.T) {
	// 20 MiB in 64 KiB chunks spans several batches; the sparse file has
	// holes in the middle and at the end.
	big := randomBytes(20<<20+3, 1)
	sparse := make([]byte, 3<<20)
	copy(sparse[1<<20:], randomBytes(70_000, 2))
	small := make([]xt, 300) // more than a batch's items
	for i := range small {
		small[i] = xtFile(strings.Repeat("s", 1+i%7)+string(rune('a'+i%26))+strings.Repeat("x", i/26), 0o600, randomBytes(i*37, byte(i)))
	}
	entries := []xt{
		xtDir("d", 0o750, append([]xt{
			xtFile("big", 0o644, big),
			{node: Node{Name: []byte("sparse"), Type: TypeFile, Mode: 0o600, Mtime: xtMtime, Size: uint64(len(sparse))}, data: sparse, holes: true},
			xtFile("empty", 0o600, nil),
		}, small...)...),
		xtFile("last", 0o4755, []byte("the end")),
	}
	for _, tc := range []struct {
		name    string
		batch   bool
		workers int
	}{{"LoadBlob", false, 1}, {"LoadBlob/4", false, 4}, {"LoadBlobs", true, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			var cs ChunkStore = archivetest.New()
			bs := &tarBatchStore{Store: archivetest.New()}
			if tc.batch {
				cs = bs
			}
			tree := xtSave(t, cs, 0, entries...)
			data, st, w := tarExport(t, cs, tree, ExportTarOptions{Workers: tc.workers})
			if len(w.list) != 0 || st.Files != 304 || st.Dirs != 1 || st.Bytes != uint64(len(big)+len(sparse)+7+sumSizes(small)) {
				t.Errorf("stats %+v, warnings:\n%s", st, w)
			}
			if tc.batch && bs.calls == 0 {
				t.Error("LoadBlobs not used")
			}
			hdrs, bodies := tarRead(t, data)
			var names []string
			var walked [][]byte
			err := Walk(context.Background(), cs, tree, func(p []byte, n *Node) error {
				walked = append(walked, p)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hdrs {
				names = append(names, strings.TrimSuffix(h.Name, "/"))
			}
			if len(names) != len(walked) {
				t.Fatalf("%d entries, archive has %d", len(names), len(walked))
			}
			for i, p := range walked {
				if names[i] != string(p) {
					t.Fatalf("entry %d is %q, want %q", i, names[i], p)
				}
			}
			want := map[string][]byte{"d/big": big, "d/sparse": sparse, "d/empty": nil, "last": []byte("the end")}
			for _, s := range small {
				want["d/"+string(s.node.Name)] = s.data
			}
			for i, h := range hdrs {
				if h.Typeflag == tar.TypeDir {
					if h.Name != "d/" || h.Mode != 0o750 || h.ModTime.UnixNano() != xtMtime+7 || h.AccessTime.UnixNano() != xtAtime {
						t.Errorf("dir %+v", h)
					}
					continue
				}
				if w, ok := want[h.Name]; !ok || !bytes.Equal(bodies[i], w) || h.Size != int64(len(w)) {
					t.Errorf("%s: %d bytes, differs from the archive's %d", h.Name, len(bodies[i]), len(w))
				}
			}
			if h := hdrs[len(hdrs)-1]; h.Mode != 0o4755 || h.ModTime.UnixNano() != xtMtime || h.Format != tar.FormatPAX {
				t.Errorf("last: mode %o mtime %d format %v", h.Mode, h.ModTime.UnixNano(), h.Format)
			}
		})
	}
}

func sumSizes(es []xt) int {
	n := 0
	for _, e := range es {
		n += len(e.data)
	}
	return n
}

func TestExportTarEntries(t *testing.T) {
	cs := archivetest.New()
	hard := func(name string) xt {
		return xtFile(name, 0o640, []byte("shared")).with(func(n *Node) { n.Nlink, n.Inode, n.Device = 2, 77, 3 })
	}
	dev := xtFile("null", 0o666, nil).with(func(n *Node) { n.Type, n.Rdev = TypeCharDev, 1<<8|3 })
	blk := xtFile("sda", 0o660, nil).with(func(n *Node) { n.Type, n.Rdev = TypeBlockDev, 8<<8|1 })
	fifo := xtFile("pipe", 0o600, nil).with(func(n *Node) { n.Type = TypeFIFO })
	attrs := xtFile("attrs", 0o600, []byte("x")).with(func(n *Node) {
		n.User, n.Group, n.UID, n.GID = []byte("alice"), []byte("staff"), 1000, 50
		n.Xattrs = []Xattr{{Name: []byte("system.posix_acl_access"), Value: []byte{2, 0, 0, 0, 1, 0, 6}}, {Name: []byte("user.a=b"), Value: []byte("v")}, {Name: []byte("user.k"), Value: []byte("v\x00w")}}
	})
	nulUser := xtFile("nuluser", 0o600, []byte("dropped")).with(func(n *Node) { n.User = []byte("a\x00b") })
	tree := xtSave(t, cs, 0,
		xtDir("a", 0o755, hard("h1"), xtLink("sym", "../target"), dev, blk, fifo, attrs, nulUser, xtFile("z", 0o600, []byte("after"))),
		xtDir("b", 0o755, hard("h2")),
	)
	data, st, w := tarExport(t, cs, tree, ExportTarOptions{})
	hdrs, bodies := tarRead(t, data)
	got := map[string]*tar.Header{}
	for i, h := range hdrs {
		got[h.Name] = h
		if h.Name == "a/z" && string(bodies[i]) != "after" {
			t.Errorf("a/z: %q", bodies[i])
		}
	}
	if h := got["a/h1"]; h == nil || h.Typeflag != tar.TypeReg || h.Size != 6 {
		t.Errorf("a/h1: %+v", h)
	}
	if h := got["b/h2"]; h == nil || h.Typeflag != tar.TypeLink || h.Linkname != "a/h1" || h.Size != 0 {
		t.Errorf("b/h2: %+v", h)
	}
	if h := got["a/sym"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "../target" {
		t.Errorf("a/sym: %+v", h)
	}
	if h := got["a/null"]; h == nil || h.Typeflag != tar.TypeChar || h.Devmajor != 1 || h.Devminor != 3 {
		t.Errorf("a/null: %+v", h)
	}
	if h := got["a/sda"]; h == nil || h.Typeflag != tar.TypeBlock || h.Devmajor != 8 || h.Devminor != 1 {
		t.Errorf("a/sda: %+v", h)
	}
	if h := got["a/pipe"]; h == nil || h.Typeflag != tar.TypeFifo {
		t.Errorf("a/pipe: %+v", h)
	}
	h := got["a/attrs"]
	if h == nil || h.Uname != "alice" || h.Gname != "staff" || h.Uid != 1000 || h.Gid != 50 ||
		h.PAXRecords["SCHILY.xattr.user.k"] != "v\x00w" || h.PAXRecords["SCHILY.xattr.system.posix_acl_access"] != "\x02\x00\x00\x00\x01\x00\x06" {
		t.Errorf("a/attrs: %+v", h)
	}
	if got["a/nuluser"] != nil {
		t.Errorf("a/nuluser written")
	}
	if st.Hardlinks != 1 || st.Specials != 3 || st.Symlinks != 1 || st.Failed != 2 || st.Files != 3 || !st.Warnings() || st.Errors() {
		t.Errorf("stats %+v", st)
	}
	if ws := w.String(); !strings.Contains(ws, `a/attrs: xattr "user.a=b"`) || !strings.Contains(ws, "a/nuluser: ") {
		t.Errorf("warnings:\n%s", ws)
	}

	// Stripping and exclusion: the first link left out, the second
	// carries the content.
	data, _, _ = tarExport(t, cs, tree, ExportTarOptions{Paths: [][]byte{[]byte("b"), []byte("a/sym")}, StripComponents: 1})
	hdrs, bodies = tarRead(t, data)
	if len(hdrs) != 2 || hdrs[0].Name != "sym" || hdrs[1].Name != "h2" || hdrs[1].Typeflag != tar.TypeReg || string(bodies[1]) != "shared" {
		t.Errorf("stripped: %+v", hdrs)
	}
}

func TestExportTarStripConflict(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0,
		xtDir("a", 0o755, xtLink("link", "/etc"), xtFile("ok", 0o644, []byte("fine"))),
		xtDir("b", 0o755, xtDir("link", 0o755, xtFile("passwd", 0o644, []byte("evil")))),
	)
	data, st, w := tarExport(t, cs, tree, ExportTarOptions{StripComponents: 1, Paths: [][]byte{[]byte("a"), []byte("b"), []byte("nope")}})
	hdrs, _ := tarRead(t, data)
	var names []string
	for _, h := range hdrs {
		names = append(names, h.Name)
	}
	if !slices.Equal(names, []string{"link", "ok"}) || st.Refused != 1 || st.NotFound != 1 || !st.Errors() {
		t.Errorf("entries %q, stats %+v, warnings:\n%s", names, st, w)
	}
	if ws := w.String(); !strings.Contains(ws, "b/link: refused") || !strings.Contains(ws, "nope: not found") {
		t.Errorf("warnings:\n%s", ws)
	}
}

func TestExportTarDamaged(t *testing.T) {
	base := archivetest.New()
	cs := &failStore{Store: base, bad: map[id.ID]bool{}}
	content := randomBytes(3*xtChunk, 9)
	tree := xtSave(t, cs, 0,
		xtFile("broken", 0o644, content),
		xt{node: Node{Name: []byte("lost"), Type: TypeFile, Mode: 0o644, Size: 5000, Damaged: []uint64{1000, 3000}}, data: make([]byte, 5000), holes: true},
		xtFile("short", 0o644, nil).with(func(n *Node) { n.Size = 10 }), // no extents for its size
		xtFile("zfine", 0o644, []byte("fine")),
	)
	cs.bad[base.BlobID(content[xtChunk:2*xtChunk])] = true
	data, st, w := tarExport(t, cs, tree, ExportTarOptions{})
	hdrs, bodies := tarRead(t, data)
	want := slices.Clone(content)
	clear(want[xtChunk : 2*xtChunk])
	if len(hdrs) != 4 || !bytes.Equal(bodies[0], want) || !bytes.Equal(bodies[1], make([]byte, 5000)) ||
		!bytes.Equal(bodies[2], make([]byte, 10)) || string(bodies[3]) != "fine" {
		t.Errorf("%d entries", len(hdrs))
	}
	ws := w.String()
	for _, s := range []string{"broken: written with zeros", "offset 65536", "simulated damage", "lost: file has damaged ranges", "bytes 1000-2999", "short: written with zeros", "malformed"} {
		if !strings.Contains(ws, s) {
			t.Errorf("warnings lack %q:\n%s", s, ws)
		}
	}
	if st.Damaged != 3 || st.Files != 4 || !st.Warnings() || st.Errors() {
		t.Errorf("stats %+v", st)
	}
}

// failWriter fails once more than n bytes were written.
type failWriter struct{ n int }

var errFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

func TestExportTarStops(t *testing.T) {
	cs := archivetest.New()
	tree := xtSave(t, cs, 0, xtFile("a", 0o644, randomBytes(12<<20, 3)), xtFile("b", 0o644, randomBytes(12<<20, 4)))
	for _, n := range []int{0, 100, 5 << 20, 13 << 20} {
		_, err := ExportTar(context.Background(), cs, xtRecord(tree), &failWriter{n: n}, ExportTarOptions{Workers: 2})
		if !errors.Is(err, errFull) {
			t.Errorf("after %d bytes: %v, want %v", n, err, errFull)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if _, err := ExportTar(ctx, cs, xtRecord(tree), &buf, ExportTarOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if bytes.HasSuffix(buf.Bytes(), make([]byte, 1024)) && buf.Len() > 0 {
		t.Errorf("a canceled export ends like a complete one")
	}
	missing := id.Hash([]byte("missing"))
	if _, err := ExportTar(context.Background(), cs, xtRecord(missing), &buf, ExportTarOptions{}); err == nil || !strings.Contains(err.Error(), "root directory") {
		t.Errorf("missing root: %v", err)
	}
	if _, err := ExportTar(context.Background(), cs, xtRecord(tree), &buf, ExportTarOptions{StripComponents: -1}); err == nil {
		t.Error("negative strip accepted")
	}
}

// limitWriter accepts n bytes, then fails (so that a fuzzed tree claiming
// huge files ends quickly).
type limitWriter struct{ n int }

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, io.ErrShortWrite
	}
	l.n -= len(p)
	return len(p), nil
}

// FuzzExportTar feeds arbitrary bytes as an archive's root tree to
// ExportTar: it must not panic or hang, and what it writes in full must be
// a tar stream archive/tar reads.
func FuzzExportTar(f *testing.F) {
	_, sub, data := fuzzFixture(f)
	seed := func(nodes ...Node) {
		b, err := EncodeTree(&Tree{Nodes: nodes})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := xtDir("dir", 0o755).node
	dir.SetSubtree(sub)
	file := xtFile("file", 0o4755, []byte("fuzz data chunk")).node
	file.Content = []Extent{DataExtent(data, 15), HoleExtent(4096), DataExtent(data, 15)}
	file.Size, file.Nlink, file.Inode = 15+4096+15, 2, 9
	file.Xattrs = []Xattr{{Name: []byte("user.x"), Value: []byte("y")}}
	link := xtLink("link", "/tmp").node
	seed(dir, file, link)
	seed(file)
	seed()
	f.Add([]byte("junk"))

	f.Fuzz(func(t *testing.T, tree []byte) {
		cs, _, _ := fuzzFixture(t)
		ctx := context.Background()
		root, _, err := cs.SaveBlob(ctx, id.TreeBlob, tree)
		if err != nil {
			t.Fatal(err)
		}
		for _, strip := range []int{0, 1} {
			var buf bytes.Buffer
			w := io.MultiWriter(&limitWriter{n: 16 << 20}, &buf)
			if _, err := ExportTar(ctx, cs, xtRecord(root), w, ExportTarOptions{StripComponents: strip, Workers: 2}); err != nil {
				continue
			}
			tr := tar.NewReader(&buf)
			for {
				if _, err := tr.Next(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("ExportTar wrote an unreadable stream: %v", err)
				}
			}
		}
	})
}
