package repo

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
)

var testPass = []byte("correct horse battery staple")

func passFunc(p []byte) func() ([]byte, error) {
	return func() ([]byte, error) { return p, nil }
}

// newLocalRepo creates a repository in a temp dir and returns it open, with
// the directory and the options used to open it again.
func newLocalRepo(t *testing.T, mutate func(*InitOptions)) (*Repo, string, Options) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	be, err := local.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := InitOptions{
		Options: Options{Passphrase: passFunc(testPass), CacheDir: t.TempDir(), KeysDir: t.TempDir()},
		KDF:     crypto.TestKDF,
	}
	if mutate != nil {
		mutate(&o)
	}
	r, err := Init(context.Background(), be, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir, o.Options
}

func reopen(t *testing.T, dir string, o Options) *Repo {
	t.Helper()
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), be, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// randomBlob returns deterministic content of the given size; every third
// blob is compressible text.
func randomBlob(rng *rand.Rand, size int) []byte {
	b := make([]byte, size)
	if rng.IntN(3) == 0 {
		words := []string{"backup ", "chunk ", "pack ", "index ", "tree ", "\n"}
		var buf bytes.Buffer
		for buf.Len() < size {
			buf.WriteString(words[rng.IntN(len(words))])
		}
		copy(b, buf.Bytes())
		return b
	}
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func mustLoad(t *testing.T, r *Repo, bid id.ID, want []byte) {
	t.Helper()
	got, err := r.LoadBlob(context.Background(), bid, nil)
	if err != nil {
		t.Fatalf("load %s: %v", bid.Short(), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("blob %s: content differs (got %d bytes, want %d)", bid.Short(), len(got), len(want))
	}
}

func countFiles(t *testing.T, be backend.Backend, ft backend.FileType) int {
	t.Helper()
	n := 0
	if err := be.List(context.Background(), ft, func(backend.FileInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
