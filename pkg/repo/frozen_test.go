package repo

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
)

var updateFrozen = flag.Bool("update-frozen", false, "regenerate testdata/repo-v1 (never do this once released)")

const frozenDir = "../../testdata/repo-v1"

// frozenBlobs is the deterministic content stored in the frozen repository.
func frozenBlobs() [][]byte {
	rng := rand.New(rand.NewPCG(2026, 11))
	var out [][]byte
	for _, size := range []int{0, 1, 17, 4096, 70000, 150000} {
		out = append(out, randomBlob(rng, size))
	}
	out = append(out, []byte(strings.Repeat("gobak frozen v1 repository\n", 3000)))
	return out
}

// TestFrozenRepoV1 opens the repository frozen in testdata (format v1,
// made by the first release of the engine) and reads every blob. Every
// future version must keep passing it.
func TestFrozenRepoV1(t *testing.T) {
	ctx := context.Background()
	pass, err := os.ReadFile(filepath.Join(frozenDir, "..", "repo-v1.passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	pass = []byte(strings.TrimSpace(string(pass)))
	if *updateFrozen {
		generateFrozen(t, pass)
	}
	// Work on a copy: opening must not need to write, but locks and tests
	// must never touch the frozen files.
	dir := filepath.Join(t.TempDir(), "repo")
	copyDir(t, frozenDir, dir)
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, be, Options{Passphrase: passFunc(pass), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Config().Encryption != "repokey" || r.Config().Suite != crypto.AES256GCM {
		t.Fatalf("config %+v", r.Config())
	}
	manifest, err := os.Open(filepath.Join(frozenDir, "..", "repo-v1.blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer manifest.Close()
	want := frozenBlobs()
	sc := bufio.NewScanner(manifest)
	i := 0
	for ; sc.Scan(); i++ {
		bid, err := id.Parse(strings.Fields(sc.Text())[0])
		if err != nil {
			t.Fatal(err)
		}
		mustLoad(t, r, bid, want[i])
	}
	if i != len(want) {
		t.Fatalf("manifest lists %d blobs, want %d", i, len(want))
	}
	ids, err := r.ListArchives(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("archives %v %v", ids, err)
	}
	for a := range ids {
		rec, err := r.LoadArchive(ctx, a)
		if err != nil || string(rec) != "frozen archive record v1" {
			t.Fatalf("archive record %q %v", rec, err)
		}
	}
	if _, err := Open(ctx, be, Options{Passphrase: passFunc([]byte("wrong")), CacheDir: t.TempDir()}); err == nil {
		t.Fatal("wrong passphrase accepted")
	}
}

func generateFrozen(t *testing.T, pass []byte) {
	ctx := context.Background()
	if err := os.RemoveAll(frozenDir); err != nil {
		t.Fatal(err)
	}
	be, err := local.Create(frozenDir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Init(ctx, be, InitOptions{Options: Options{Passphrase: passFunc(pass)}, PackSize: MinPackSize})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines []string
	for i, b := range frozenBlobs() {
		typ := id.DataBlob
		if i == 3 {
			typ = id.TreeBlob
		}
		bid, _, err := r.SaveBlob(ctx, typ, b)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s %d", bid, len(b)))
	}
	if _, err := r.SaveArchive(ctx, []byte("frozen archive record v1")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(frozenDir, "..", "repo-v1.blobs"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
