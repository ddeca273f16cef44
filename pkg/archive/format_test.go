package archive

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

func sampleNodes() []Node {
	sub := id.Hash([]byte("subtree"))
	chunk := id.Hash([]byte("chunk"))
	return []Node{
		{Name: []byte("a-file"), Type: TypeFile, Mode: 0o4755, UID: 1000, GID: 100, User: []byte("alice"), Group: []byte("users"),
			Mtime: 1700000000123456789, Atime: 1700000001, Ctime: 1700000002, Size: 5000, Inode: 42, Device: 2049, Nlink: 2,
			Xattrs:  []Xattr{{Name: []byte("security.selinux"), Value: []byte("x\x00")}, {Name: []byte("user.k"), Value: []byte("v")}},
			Content: []Extent{DataExtent(chunk, 1000), HoleExtent(3000), DataExtent(chunk, 1000)}},
		{Name: []byte("b-dir"), Type: TypeDir, Mode: 0o1777, Subtree: sub[:]},
		{Name: []byte("c-link"), Type: TypeSymlink, Mode: 0o777, LinkTarget: []byte("../\xff\xfe-not-utf8")},
		{Name: []byte("d-dev"), Type: TypeBlockDev, Mode: 0o660, Rdev: 0x0700},
		{Name: []byte("\xff\xfe odd name"), Type: TypeFIFO, Mode: 0o644},
	}
}

func TestTreeRoundTrip(t *testing.T) {
	nodes := sampleNodes()
	// EncodeTree requires sorted names.
	nodes[0], nodes[4] = nodes[4], nodes[0]
	if _, err := EncodeTree(&Tree{Nodes: nodes}); err == nil {
		t.Fatal("unsorted tree encoded")
	}
	nodes = sampleNodes()
	data, err := EncodeTree(&Tree{Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTree(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Nodes, nodes) {
		t.Fatalf("round trip differs:\n%+v\n%+v", got.Nodes, nodes)
	}
	again, _ := EncodeTree(got)
	if !bytes.Equal(again, data) {
		t.Fatal("encoding is not deterministic")
	}
}

// TestTreeGolden pins the v1 encoding: a change here makes every existing
// archive unreadable.
func TestTreeGolden(t *testing.T) {
	n := Node{Name: []byte("f"), Type: TypeFile, Mode: 0o644, Mtime: 1, Size: 3, Content: []Extent{HoleExtent(3)}}
	data, err := EncodeTree(&Tree{Nodes: []Node{n}})
	if err != nil {
		t.Fatal(err)
	}
	const want = "a201010281aa0141660201031901a404000500080109000a000b03128182f603"
	if got := hex.EncodeToString(data); got != want {
		t.Fatalf("tree encoding changed:\n got %s\nwant %s", got, want)
	}
}

func TestDecodeTreeRejects(t *testing.T) {
	enc := func(nodes ...Node) []byte {
		b, err := encMode.Marshal(&Tree{Version: TreeVersion, Nodes: nodes})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := Node{Name: []byte("x"), Type: TypeFile, Mode: 0o644}
	cases := map[string][]byte{
		"junk":          []byte("not cbor"),
		"version":       func() []byte { b, _ := encMode.Marshal(&Tree{Version: 9}); return b }(),
		"empty name":    enc(Node{Type: TypeFile}),
		"slash name":    enc(Node{Name: []byte("a/b"), Type: TypeFile}),
		"dotdot name":   enc(Node{Name: []byte(".."), Type: TypeDir, Subtree: make([]byte, 32)}),
		"dot name":      enc(Node{Name: []byte("."), Type: TypeFile}),
		"nul name":      enc(Node{Name: []byte("a\x00"), Type: TypeFile}),
		"bad type":      enc(Node{Name: []byte("x"), Type: 9}),
		"bad mode":      enc(Node{Name: []byte("x"), Type: TypeFile, Mode: 0o170000}),
		"dir no tree":   enc(Node{Name: []byte("x"), Type: TypeDir}),
		"file subtree":  enc(Node{Name: []byte("x"), Type: TypeFile, Subtree: make([]byte, 32)}),
		"size mismatch": enc(Node{Name: []byte("x"), Type: TypeFile, Size: 5, Content: []Extent{HoleExtent(4)}}),
		"short extent":  enc(Node{Name: []byte("x"), Type: TypeFile, Size: 1, Content: []Extent{{ID: []byte{1}, Size: 1}}}),
		"duplicate":     enc(good, good),
		"unsorted":      enc(Node{Name: []byte("z"), Type: TypeFile}, good),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeTree(data); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSplitTree(t *testing.T) {
	ctx := context.Background()
	s := archivetest.New()
	var nodes []Node
	for i := 0; i < 5000; i++ {
		nodes = append(nodes, Node{Name: []byte(fmt.Sprintf("file-%06d", i)), Type: TypeFile, Mode: 0o644, Mtime: int64(i)})
	}
	save := func(b []byte) (id.ID, error) {
		if len(b) > 16<<10 {
			t.Errorf("blob of %d bytes exceeds the limit", len(b))
		}
		v, _, err := s.SaveBlob(ctx, id.TreeBlob, b)
		return v, err
	}
	root, err := SplitTree(nodes, 16<<10, save)
	if err != nil {
		t.Fatal(err)
	}
	if s.Blobs() < 3 {
		t.Fatalf("only %d blobs: tree was not split", s.Blobs())
	}
	got, err := LoadTree(ctx, s, root)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, nodes) {
		t.Fatalf("split tree loads %d nodes, want %d", len(got), len(nodes))
	}
	// Small trees stay one blob, and the same directory gives the same ID.
	small := nodes[:3]
	a, _ := SplitTree(small, 16<<10, save)
	b, _ := SplitTree(small, 16<<10, save)
	if a != b {
		t.Fatal("same directory, different tree IDs")
	}
}

func TestExtentParts(t *testing.T) {
	ctx := context.Background()
	s := archivetest.New()
	ex := []Extent{DataExtent(id.Hash([]byte("a")), 10), HoleExtent(5)}
	data, err := EncodeExtentList(ex)
	if err != nil {
		t.Fatal(err)
	}
	pid, _, _ := s.SaveBlob(ctx, id.TreeBlob, data)
	n := &Node{Name: []byte("big"), Type: TypeFile, Size: 30, ContentParts: [][]byte{pid[:], pid[:]}}
	got, err := Extents(ctx, s, n)
	if err != nil || len(got) != 4 {
		t.Fatalf("extents %v %v", got, err)
	}
	n.Size = 31
	if _, err := Extents(ctx, s, n); !errors.Is(err, ErrMalformed) {
		t.Fatalf("size mismatch: %v", err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	tree := id.Hash([]byte("root"))
	r := &Record{Name: "host-2026-03-14", Hostname: "host", Username: "root",
		Start: "2026-03-14T02:00:00.5+01:00", End: "2026-03-14T02:03:00+01:00",
		Paths: [][]byte{[]byte("/etc"), []byte("/home/\xff")}, CommandLine: [][]byte{[]byte("gobak"), []byte("create")},
		Tree: tree[:], Stats: Stats{OriginalSize: 10, NFiles: 2}, Chunker: "1,2,3", Compression: "lz4",
		Warnings: []string{"/etc/x: vanished"}}
	data, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(data)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("%v\n%+v\n%+v", err, got, r)
	}
	if st, _ := got.StartTime(); st.Format("15:04 -0700") != "02:00 +0100" {
		t.Fatalf("zone lost: %v", st)
	}
	for name, bad := range map[string]*Record{
		"no name":  {Tree: tree[:], Start: r.Start, End: r.End},
		"no tree":  {Name: "x", Start: r.Start, End: r.End},
		"bad time": {Name: "x", Tree: tree[:], Start: "yesterday", End: r.End},
	} {
		data, _ := encMode.Marshal(bad)
		if _, err := DecodeRecord(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
