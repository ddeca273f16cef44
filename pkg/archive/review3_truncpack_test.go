package archive_test

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

func newRepoAt(t *testing.T, dir string) *repo.Repo {
	t.Helper()
	be, err := local.Create(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{
		Options:    repo.Options{Passphrase: func() ([]byte, error) { return []byte("pw"), nil }, CacheDir: t.TempDir()},
		Encryption: "repokey", Compression: "none", KDF: crypto.TestKDF,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestExtractTruncatedPackRestoresIntactData: a data pack cut short in
// its last blob loses that blob only; the other chunks of the file, wholly
// in the part of the pack that is left, must be restored with their
// content (LoadBlob reads each of them fine, and the unbatched restore
// restores them). The batched restore reads the blobs of a pack with one
// ranged read, and the short read made it restore the whole file as zeros.
func TestExtractTruncatedPackRestoresIntactData(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	want := make([]byte, 6<<20)
	for j := range want {
		want[j] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(src, "f"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	repoDir := t.TempDir()
	r := newRepoAt(t, repoDir)
	cfg := r.Config()
	rec, _, err := archive.Create(ctx, r, r, archive.CreateOptions{
		Name: "a", Paths: []string{src}, Polynomial: cfg.Polynomial, Chunker: cfg.Chunker, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Find the data pack and cut it in the middle of its last blob.
	cut, nblobs := 0, 0
	var last uint32 // plaintext length of the blob cut
	err = filepath.WalkDir(filepath.Join(repoDir, "repo", "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		pid, err := id.Parse(d.Name())
		if err != nil {
			return err
		}
		blobs, _, err := r.PackBlobs(ctx, pid)
		if err != nil {
			return err
		}
		if blobs[0].Type != id.DataBlob {
			return nil
		}
		nblobs = len(blobs)
		l := blobs[0].Location
		for _, e := range blobs {
			if e.Offset > l.Offset {
				l = e.Location
			}
		}
		cut++
		last = l.RawLength
		return os.Truncate(p, int64(l.Offset)+int64(l.Length)/2)
	})
	if err != nil || cut != 1 || nblobs < 2 {
		t.Fatalf("cutting the data pack: %v (%d packs cut, %d blobs)", err, cut, nblobs)
	}

	dst := t.TempDir()
	st, err := archive.Extract(ctx, r, rec, archive.ExtractOptions{Destination: dst, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, src[1:], "f"))
	if err != nil {
		t.Fatal(err)
	}
	keep := len(want) - int(last) // the chunks before the one cut
	same := 0
	for same < len(got) && same < len(want) && got[same] == want[same] {
		same++
	}
	if len(got) != len(want) || same < keep {
		t.Errorf("restored file: %d bytes, the first %d as saved; want %d bytes with the first %d (all chunks but the %d-byte one cut) as saved (damaged files: %d)",
			len(got), same, len(want), keep, last, st.Damaged)
	}
}
