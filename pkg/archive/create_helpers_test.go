package archive

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/id"
)

// testPol is a valid chunker polynomial.
const testPol = chunker.Pol(0x3DA3358B4DC173)

// smallChunks makes small files span several chunks.
var smallChunks = chunker.Params{Min: 1 << 10, Avg: 4 << 10, Max: 64 << 10}

// baseOptions returns options for backing up paths with small chunks.
func baseOptions(name string, paths ...string) CreateOptions {
	return CreateOptions{
		Name:        name,
		Paths:       paths,
		Polynomial:  testPol,
		Chunker:     smallChunks,
		Compression: "none",
		Hostname:    "testhost",
		Username:    "tester",
		// Test files are written just before each backup; a start time 2 s
		// later keeps them outside racyWindow, as files of a real nightly
		// backup are, so parent reuse can be tested.
		Time: time.Now().Add(2 * time.Second),
	}
}

// createResult is what a test Create gave, with its warnings and list.
type createResult struct {
	rec   *Record
	id    id.ID
	warns []string
	lines map[string]Status // path -> status from List
}

// runCreate runs Create and fails the test on error.
func runCreate(t *testing.T, s *archivetest.Store, o CreateOptions) *createResult {
	t.Helper()
	r, err := tryCreate(t, s, o)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return r
}

// tryCreate runs Create and collects warnings and list lines.
func tryCreate(t *testing.T, s *archivetest.Store, o CreateOptions) (*createResult, error) {
	t.Helper()
	r := &createResult{lines: map[string]Status{}}
	var mu sync.Mutex
	o.Warn = func(path string, err error) {
		mu.Lock()
		r.warns = append(r.warns, path+": "+err.Error())
		mu.Unlock()
	}
	o.List = func(st Status, path string) {
		mu.Lock()
		r.lines[path] = st
		mu.Unlock()
	}
	rec, aid, err := Create(context.Background(), s, s, o)
	r.rec, r.id = rec, aid
	return r, err
}

// archived maps every path of an archive to its node.
func archived(t *testing.T, s *archivetest.Store, tree id.ID) map[string]*Node {
	t.Helper()
	out := map[string]*Node{}
	var walk func(tree id.ID, prefix string)
	walk = func(tree id.ID, prefix string) {
		nodes, err := LoadTree(context.Background(), s, tree)
		if err != nil {
			t.Fatalf("load tree %q: %v", prefix, err)
		}
		for i := range nodes {
			n := &nodes[i]
			p := joinFS(prefix, string(n.Name))
			out[p] = n
			if n.Type == TypeDir {
				walk(n.SubtreeID(), p)
			}
		}
	}
	walk(tree, "")
	return out
}

// pathsOf returns the sorted paths of an archive listing.
func pathsOf(m map[string]*Node) []string {
	var out []string
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// content reassembles a file's content from the store.
func content(t *testing.T, s *archivetest.Store, n *Node) []byte {
	t.Helper()
	ex, err := Extents(context.Background(), s, n)
	if err != nil {
		t.Fatalf("extents of %q: %v", n.Name, err)
	}
	var out []byte
	for _, e := range ex {
		if e.IsHole() {
			out = append(out, make([]byte, e.Size)...)
			continue
		}
		data, err := s.LoadBlob(context.Background(), e.BlobID(), nil)
		if err != nil {
			t.Fatalf("load chunk of %q: %v", n.Name, err)
		}
		if uint64(len(data)) != e.Size {
			t.Fatalf("chunk of %q has %d bytes, extent says %d", n.Name, len(data), e.Size)
		}
		out = append(out, data...)
	}
	return out
}

// writeTree creates files under dir: a map of relative path to content;
// paths ending in "/" are directories.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pseudoRandom returns n reproducible incompressible bytes.
func pseudoRandom(n int, seed uint64) []byte {
	out := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = byte(x >> 32)
	}
	return out
}

// rel returns the archive path of an absolute path.
func rel(p string) string { return strings.TrimPrefix(p, "/") }
