package repo

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
)

// TestRoundTrip saves random blobs of 0 B to 16 MiB from several
// goroutines and loads them back after reopening, after deleting the cache,
// and after deleting every index file and rebuilding from pack trailers.
func TestRoundTrip(t *testing.T) {
	for _, suite := range []crypto.Suite{crypto.AES256GCM, crypto.ChaCha20Poly1305, crypto.None} {
		t.Run(string(suite), func(t *testing.T) {
			enc := "repokey"
			if suite == crypto.None {
				enc = "none"
			}
			r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.Suite = suite; o.Encryption = enc })
			ctx := context.Background()
			sizes := []int{0, 1, 100, 4096, 65536, 1 << 20, 3<<20 + 17, 16 << 20}
			if testing.Short() {
				sizes = sizes[:6]
			}
			for i := 0; i < 60; i++ {
				sizes = append(sizes, rand.IntN(200<<10))
			}
			blobs := make(map[id.ID][]byte)
			var mu sync.Mutex
			var wg sync.WaitGroup
			work := make(chan int)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						rng := rand.New(rand.NewPCG(uint64(i), 7))
						data := randomBlob(rng, sizes[i])
						typ := id.DataBlob
						if i%5 == 0 {
							typ = id.TreeBlob
						}
						bid, _, err := r.SaveBlob(ctx, typ, data)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						blobs[bid] = data
						mu.Unlock()
					}
				}()
			}
			for i := range sizes {
				work <- i
			}
			close(work)
			wg.Wait()
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for bid, data := range blobs {
				mustLoad(t, r, bid, data)
			}
			st, err := r.Stats(ctx)
			if err != nil || st.Blobs != len(blobs) || st.Packs < 2 || st.TreeBlobs == 0 {
				t.Fatalf("stats %+v err %v, want %d blobs", st, err, len(blobs))
			}
			r.Close()

			r2 := reopen(t, dir, o)
			for bid, data := range blobs {
				mustLoad(t, r2, bid, data)
			}
			r2.Close()

			if err := os.RemoveAll(o.CacheDir); err != nil {
				t.Fatal(err)
			}
			r3 := reopen(t, dir, o)
			for bid, data := range blobs {
				mustLoad(t, r3, bid, data)
			}
			r3.Close()

			if err := os.RemoveAll(filepath.Join(dir, "index")); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "index"), 0o700); err != nil {
				t.Fatal(err)
			}
			r4 := reopen(t, dir, o)
			for bid := range blobs {
				if _, err := r4.LoadBlob(ctx, bid, nil); !errors.Is(err, ErrBlobNotFound) {
					t.Fatalf("blob %s still found without index files: %v", bid.Short(), err)
				}
				break
			}
			res, err := r4.RebuildIndex(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Blobs != len(blobs) || len(res.Damaged) != 0 {
				t.Fatalf("rebuild: %+v, want %d blobs", res, len(blobs))
			}
			for bid, data := range blobs {
				mustLoad(t, r4, bid, data)
			}
			r4.Close()
			r5 := reopen(t, dir, o) // and the rebuilt index files work from a fresh open
			for bid, data := range blobs {
				mustLoad(t, r5, bid, data)
			}
		})
	}
}

func TestDedup(t *testing.T) {
	r, _, _ := newLocalRepo(t, nil)
	ctx := context.Background()
	data := []byte(strings.Repeat("same content ", 1000))
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, s, err := r.SaveBlob(ctx, id.DataBlob, data)
			if err != nil {
				t.Error(err)
			}
			if s {
				mu.Lock()
				stored++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if stored != 1 {
		t.Fatalf("stored %d times, want 1", stored)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, s, err := r.SaveBlob(ctx, id.DataBlob, data); err != nil || s {
		t.Fatalf("after flush: stored=%v err=%v, want dedup", s, err)
	}
	st, _ := r.Stats(ctx)
	if st.Blobs != 1 || st.Packs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, nil)
	r.Close()

	t.Run("wrong passphrase", func(t *testing.T) {
		be, _ := local.Open(dir)
		o2 := o
		o2.Passphrase = passFunc([]byte("nope"))
		_, err := Open(ctx, be, o2)
		if !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not a repository", func(t *testing.T) {
		be, _ := local.Open(t.TempDir())
		if _, err := Open(ctx, be, o); !errors.Is(err, ErrNotRepository) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("unknown version", func(t *testing.T) {
		d := t.TempDir()
		be, _ := local.Create(filepath.Join(d, "r"))
		cfg := []byte(`{"format":"gobak","version":7,"id":"` + strings.Repeat("ab", 32) + `"}`)
		if err := be.Save(ctx, backend.Handle{Type: backend.ConfigFile}, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(ctx, be, o); !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("garbage key file", func(t *testing.T) {
		d := filepath.Join(t.TempDir(), "copy")
		copyDir(t, dir, d)
		keys, _ := os.ReadDir(filepath.Join(d, "keys"))
		for _, k := range keys {
			p := filepath.Join(d, "keys", k.Name())
			os.Chmod(p, 0o600)
			os.WriteFile(p, []byte("garbage"), 0o600)
		}
		be, _ := local.Open(d)
		_, err := Open(ctx, be, o)
		if !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "keys/") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("init twice", func(t *testing.T) {
		be, _ := local.Open(dir)
		if _, err := Init(ctx, be, InitOptions{Options: o, KDF: crypto.TestKDF}); !errors.Is(err, ErrAlreadyExists) {
			t.Fatalf("got %v", err)
		}
	})
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKeyModes(t *testing.T) {
	ctx := context.Background()
	t.Run("none", func(t *testing.T) {
		r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.Encryption = "none"; o.Passphrase = nil })
		bid, _, _ := r.SaveBlob(ctx, id.DataBlob, []byte("plain"))
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		r.Close()
		r2 := reopen(t, dir, o)
		mustLoad(t, r2, bid, []byte("plain"))
		if countFiles(t, r2.Backend(), backend.KeyFile) != 0 {
			t.Fatal("none mode wrote a key")
		}
		if _, err := r2.ExportKey(); err == nil {
			t.Fatal("export from none repo should fail")
		}
	})
	t.Run("keyfile", func(t *testing.T) {
		r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.Encryption = "keyfile" })
		if countFiles(t, r.Backend(), backend.KeyFile) != 0 {
			t.Fatal("keyfile mode wrote a key into the repository")
		}
		r.Close()
		reopen(t, dir, o).Close()
		o2 := o
		o2.KeysDir = t.TempDir()
		be, _ := local.Open(dir)
		if _, err := Open(ctx, be, o2); !errors.Is(err, ErrNoKey) {
			t.Fatalf("empty keys dir: %v", err)
		}
	})
	t.Run("change passphrase and export/import", func(t *testing.T) {
		r, dir, o := newLocalRepo(t, nil)
		exported, err := r.ExportKey()
		if err != nil {
			t.Fatal(err)
		}
		newPass := []byte("new pass")
		if err := r.ChangePassphrase(ctx, newPass, crypto.TestKDF); err != nil {
			t.Fatal(err)
		}
		r.Close()
		be, _ := local.Open(dir)
		if _, err := Open(ctx, be, o); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("old passphrase still works: %v", err)
		}
		o2 := o
		o2.Passphrase = passFunc(newPass)
		reopen(t, dir, o2).Close()
		if n := countFiles(t, be, backend.KeyFile); n != 1 {
			t.Fatalf("%d key files after change, want 1", n)
		}
		// Lose every key; import the exported (old-passphrase) one.
		os.RemoveAll(filepath.Join(dir, "keys"))
		os.Mkdir(filepath.Join(dir, "keys"), 0o700)
		if _, err := Open(ctx, be, o2); !errors.Is(err, ErrNoKey) {
			t.Fatalf("no keys: %v", err)
		}
		if err := ImportKey(ctx, be, o, []byte("junk")); err == nil {
			t.Fatal("junk imported")
		}
		if err := ImportKey(ctx, be, o2, exported); !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("import with wrong passphrase: %v", err)
		}
		if err := ImportKey(ctx, be, o, exported); err != nil {
			t.Fatal(err)
		}
		reopen(t, dir, o).Close()
	})
}

func TestLoadDetectsDamage(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, nil)
	data := randomBlob(rand.New(rand.NewPCG(1, 2)), 50000)
	bid, _, _ := r.SaveBlob(ctx, id.DataBlob, data)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	loc, ok, _ := r.Lookup(bid)
	if !ok {
		t.Fatal("not indexed")
	}
	r.Close()
	packPath := filepath.Join(dir, "data", loc.Pack.String()[:2], loc.Pack.String())
	orig, err := os.ReadFile(packPath)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(packPath, 0o600)
	flipped := append([]byte(nil), orig...)
	flipped[loc.Offset+loc.Length/2] ^= 1
	os.WriteFile(packPath, flipped, 0o600)
	r2 := reopen(t, dir, o)
	if _, err := r2.LoadBlob(ctx, bid, nil); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), loc.Pack.String()) {
		t.Fatalf("bit flip: %v", err)
	}
	os.WriteFile(packPath, orig[:len(orig)-10], 0o600)
	if _, _, err := r2.PackBlobs(ctx, loc.Pack); !errors.Is(err, ErrDamaged) {
		t.Fatalf("truncated pack trailer: %v", err)
	}
	os.WriteFile(packPath, orig[:loc.Offset+loc.Length/2], 0o600)
	if _, err := r2.LoadBlob(ctx, bid, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("pack truncated inside the blob: %v", err)
	}
	os.Remove(packPath)
	if _, err := r2.LoadBlob(ctx, bid, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("missing pack: %v", err)
	}
}

func TestArchiveRecords(t *testing.T) {
	ctx := context.Background()
	r, _, _ := newLocalRepo(t, nil)
	bid, _, _ := r.SaveBlob(ctx, id.TreeBlob, []byte("tree"))
	aid, err := r.SaveArchive(ctx, []byte("record"))
	if err != nil {
		t.Fatal(err)
	}
	// SaveArchive flushed: the blob is indexed.
	if _, ok, _ := r.cache.Lookup(bid); !ok {
		t.Fatal("SaveArchive did not flush first")
	}
	got, err := r.LoadArchive(ctx, aid)
	if err != nil || string(got) != "record" {
		t.Fatalf("%q %v", got, err)
	}
	ids, _ := r.ListArchives(ctx)
	if !ids.Has(aid) || len(ids) != 1 {
		t.Fatalf("list: %v", ids)
	}
	if err := r.DeleteArchive(ctx, aid); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LoadArchive(ctx, aid); !errors.Is(err, backend.ErrNotExist) {
		t.Fatalf("after delete: %v", err)
	}
}
