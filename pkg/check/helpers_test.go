package check

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

var testPass = []byte("check test passphrase")

// fixture is a repository with two archives made by archive.Create:
// "a1" of src/{docs/a.txt, docs/b.bin, img/c.bin, x.bin} and "a2" of the
// same plus y.bin (stored in a pack of its own, the same size as x.bin).
type fixture struct {
	t    *testing.T
	dir  string // repository
	src  string // backed-up directory
	opts repo.Options
}

// testChunker makes chunks of 16-128 KiB, so the files span several packs
// of 1 MiB.
var testChunker = chunker.Params{Min: 16 << 10, Avg: 32 << 10, Max: 128 << 10}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(base, "repo"), src: filepath.Join(base, "src"),
		opts: repo.Options{Passphrase: func() ([]byte, error) { return testPass, nil }, CacheDir: filepath.Join(base, "cache")}}
	rng := rand.New(rand.NewPCG(1, 2))
	writeFile(t, filepath.Join(f.src, "docs", "a.txt"), bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 8000))
	writeFile(t, filepath.Join(f.src, "docs", "b.bin"), randBytes(rng, 600<<10))
	writeFile(t, filepath.Join(f.src, "img", "c.bin"), randBytes(rng, 1200<<10))
	writeFile(t, filepath.Join(f.src, "x.bin"), randBytes(rng, 10000))

	be, err := local.Create(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{Options: f.opts, KDF: crypto.TestKDF,
		Chunker: testChunker, PackSize: repo.MinPackSize})
	if err != nil {
		t.Fatal(err)
	}
	f.create(r, "a1")
	writeFile(t, filepath.Join(f.src, "y.bin"), randBytes(rng, 10000))
	f.create(r, "a2")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) create(r *repo.Repo, name string) {
	f.t.Helper()
	cfg := r.Config()
	_, _, err := archive.Create(context.Background(), r, r, archive.CreateOptions{
		Name: name, Paths: []string{f.src}, Polynomial: cfg.Polynomial, Chunker: cfg.Chunker,
		Hostname: "host", Workers: 2,
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// open opens the repository (with a fresh cache, as after damage the old
// one may be stale).
func (f *fixture) open() *repo.Repo {
	f.t.Helper()
	be, err := local.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	o := f.opts
	o.CacheDir = f.t.TempDir()
	r, err := repo.Open(context.Background(), be, o)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { r.Close() })
	return r
}

// check runs Check on a freshly opened repository and returns the
// problems.
func (f *fixture) check(o Options) ([]Problem, Summary) {
	f.t.Helper()
	r := f.open()
	var probs []Problem
	sum, err := Check(context.Background(), r, o, func(p Problem) { probs = append(probs, p) })
	if err != nil {
		f.t.Fatalf("Check: %v", err)
	}
	if sum.Warnings+sum.Damage != len(probs) {
		f.t.Errorf("summary counts %d+%d problems, %d reported", sum.Warnings, sum.Damage, len(probs))
	}
	return probs, sum
}

// srcPath returns the archive path of a file of src (absolute paths are
// stored without their leading '/').
func (f *fixture) srcPath(rel string) string {
	return strings.TrimPrefix(filepath.Join(f.src, rel), "/")
}

// blobsOf returns the locations of the data blobs of the file at archive
// path p in archive a, and the ID of the tree of its directory.
func (f *fixture) blobsOf(a, p string) (locs []index.Entry, dirTree id.ID) {
	f.t.Helper()
	r := f.open()
	ctx := context.Background()
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil {
		f.t.Fatal(err)
	}
	e, err := archive.FindByName(list, a)
	if err != nil {
		f.t.Fatal(err)
	}
	dir := filepath.Dir(p)
	err = archive.Walk(ctx, r, e.Record.TreeID(), func(path []byte, n *archive.Node) error {
		if string(path) == dir && n.Type == archive.TypeDir {
			dirTree = n.SubtreeID()
		}
		if string(path) != p {
			return nil
		}
		exts, err := archive.Extents(ctx, r, n)
		if err != nil {
			return err
		}
		for _, x := range exts {
			loc, ok, err := r.Lookup(x.BlobID())
			if err != nil || !ok {
				f.t.Fatalf("lookup %s: %v %v", x.BlobID(), ok, err)
			}
			locs = append(locs, index.Entry{ID: x.BlobID(), Location: loc})
		}
		return nil
	})
	if err != nil || len(locs) == 0 || dirTree.IsNull() {
		f.t.Fatalf("no blobs for %s (%v)", p, err)
	}
	return locs, dirTree
}

// lookup returns where a blob is stored.
func (f *fixture) lookup(b id.ID) index.Location {
	f.t.Helper()
	loc, ok, err := f.open().Lookup(b)
	if err != nil || !ok {
		f.t.Fatalf("lookup %s: %v %v", b, ok, err)
	}
	return loc
}

// file returns the path of a repository file.
func (f *fixture) file(t backend.FileType, name string) string {
	return filepath.Join(f.dir, filepath.FromSlash(backend.Handle{Type: t, Name: name}.String()))
}

// files lists the repository files of a type.
func (f *fixture) files(t backend.FileType) []string {
	f.t.Helper()
	var out []string
	be, err := local.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := be.List(context.Background(), t, func(fi backend.FileInfo) error {
		out = append(out, fi.Name)
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// modify rewrites a (read-only) repository file.
func (f *fixture) modify(path string, fn func([]byte) []byte) {
	f.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	data = fn(data)
	if err := os.Remove(path); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o400); err != nil {
		f.t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// find returns the problems of a kind.
func find(probs []Problem, kind string) []Problem {
	var out []Problem
	for _, p := range probs {
		if p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// names reports whether some problem of kind names archive a and a path
// ending in suffix.
func names(probs []Problem, kind, a, suffix string) bool {
	for _, p := range find(probs, kind) {
		if p.Archive != a {
			continue
		}
		for _, path := range p.Paths {
			if strings.HasSuffix(path, suffix) {
				return true
			}
		}
	}
	return false
}
