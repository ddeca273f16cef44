package index

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gobak/gobak/pkg/id"
)

func TestPersistenceAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "index.db")
	c, err := Open(path, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path() != path {
		t.Errorf("Path() = %q, want %q", c.Path(), path)
	}
	pack := testID("pack", 1)
	entries := testEntries(0, 10)
	mustAddPack(t, c, pack, entries)
	file := testID("index", 1)
	if err := c.AddIndexFile(file, map[id.ID][]Entry{testID("pack", 2): testEntries(10, 5)}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutTree(entries[0].ID, []byte("tree bytes")); err != nil {
		t.Fatal(err)
	}
	before := mustStats(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("parent dir mode %o, want 700", perm)
	}

	c, err = Open(path, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, e := range entries {
		want := e.Location
		want.Pack = pack
		wantLocation(t, c, e.ID, want)
	}
	if ok, err := c.IsMerged(file); err != nil || !ok {
		t.Errorf("IsMerged after reopen = %v, %v", ok, err)
	}
	if got, ok, err := c.GetTree(entries[0].ID); err != nil || !ok || string(got) != "tree bytes" {
		t.Errorf("GetTree after reopen = %q, %v, %v", got, ok, err)
	}
	if after := mustStats(t, c); after != before {
		t.Errorf("Stats after reopen = %+v, want %+v", after, before)
	}
	if _, ok, err := c.Lookup(testID("blob", 999)); err != nil || ok {
		t.Errorf("Lookup of unknown blob = %v, %v", ok, err)
	}
}

func TestRepoMismatchResets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	fill := func(t *testing.T, repo id.ID) {
		t.Helper()
		c, err := Open(path, repo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		mustAddPack(t, c, testID("pack", 1), testEntries(0, 4))
		if err := c.AddIndexFile(testID("index", 1), nil); err != nil {
			t.Fatal(err)
		}
	}
	empty := func(t *testing.T, repo id.ID) {
		t.Helper()
		c, err := Open(path, repo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if st := mustStats(t, c); st != (Stats{}) {
			t.Errorf("Stats = %+v, want zero", st)
		}
		if _, ok, err := c.Lookup(testID("blob", 0)); err != nil || ok {
			t.Errorf("blob survived the reset: %v %v", ok, err)
		}
		if m, err := c.Merged(); err != nil || len(m) != 0 {
			t.Errorf("Merged = %v, %v; want empty", m, err)
		}
	}
	setSchema := func(t *testing.T, v uint32) {
		t.Helper()
		c, err := Open(path, testRepo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = c.db.Update(func(tx *bbolt.Tx) error {
			b := make([]byte, 4)
			binary.LittleEndian.PutUint32(b, v)
			return tx.Bucket(bucketMeta).Put(keySchema, b)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("other repo", func(t *testing.T) {
		fill(t, testRepo)
		empty(t, id.Hash([]byte("another repository")))
	})
	t.Run("other schema", func(t *testing.T) {
		fill(t, testRepo)
		setSchema(t, SchemaVersion+1)
		empty(t, testRepo)
	})
	t.Run("same repo keeps data", func(t *testing.T) {
		fill(t, testRepo)
		c, err := Open(path, testRepo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if st := mustStats(t, c); st.Packs != 1 || st.Blobs != 4 {
			t.Errorf("Stats = %+v, want 1 pack, 4 blobs", st)
		}
	})
}

func TestGarbageFileIsCorrupt(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"short text", []byte("this is not a database\n")},
		{"one page of junk", random(4096)},
		{"many pages of junk", random(64 << 10)},
		{"zeros", make([]byte, 32<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "index.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := OpenWithTimeout(path, testRepo, time.Second)
			if err == nil {
				c.Close()
				t.Fatal("Open of a garbage file succeeded")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open error %v does not wrap ErrCorrupt", err)
			}
			// The documented recovery: delete and open again.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			c, err = Open(path, testRepo)
			if err != nil {
				t.Fatalf("Open after delete: %v", err)
			}
			c.Close()
		})
	}
}

func TestSecondOpenFailsWithinTimeout(t *testing.T) {
	c := openTest(t)
	const timeout = 200 * time.Millisecond
	start := time.Now()
	c2, err := OpenWithTimeout(c.Path(), testRepo, timeout)
	elapsed := time.Since(start)
	if err == nil {
		c2.Close()
		t.Fatal("second Open succeeded while the first is open")
	}
	if !errors.Is(err, ErrInUse) {
		t.Errorf("error %v does not wrap ErrInUse", err)
	}
	want := "index cache " + c.Path() + " is in use by another gobak process"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if elapsed > 10*timeout {
		t.Errorf("second Open took %v with timeout %v", elapsed, timeout)
	}
	// The first handle still works, and the file opens once it is closed.
	mustAddPack(t, c, testID("pack", 1), testEntries(0, 1))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c3, err := OpenWithTimeout(c.Path(), testRepo, timeout)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer c3.Close()
	if st := mustStats(t, c3); st.Blobs != 1 {
		t.Errorf("Stats = %+v, want 1 blob", st)
	}
}

func TestCorruptValues(t *testing.T) {
	c := openTest(t)
	mustAddPack(t, c, testID("pack", 1), testEntries(0, 2))
	blob := testID("blob", 0)
	put := func(t *testing.T, bucket, key, val []byte) {
		t.Helper()
		if err := c.db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucket).Put(key, val)
		}); err != nil {
			t.Fatal(err)
		}
	}
	wantCorrupt := func(t *testing.T, what string, err error, name string) {
		t.Helper()
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: error %v, want ErrCorrupt", what, err)
		}
		if name != "" && !bytes.Contains([]byte(err.Error()), []byte(name)) {
			t.Errorf("%s: error %q does not name %s", what, err, name)
		}
	}

	t.Run("short location", func(t *testing.T) {
		put(t, bucketBlobs, blob[:], []byte{1, 2, 3})
		_, _, err := c.Lookup(blob)
		wantCorrupt(t, "Lookup", err, blob.String())
		_, err = c.Has(blob)
		wantCorrupt(t, "Has", err, blob.String())
		err = c.HasMany([]id.ID{blob}, make([]bool, 1))
		wantCorrupt(t, "HasMany", err, blob.String())
		err = c.LookupMany([]id.ID{blob}, make([]Location, 1), make([]bool, 1))
		wantCorrupt(t, "LookupMany", err, blob.String())
		err = c.ForEachBlob(func(Entry) error { return nil })
		wantCorrupt(t, "ForEachBlob", err, blob.String())
		err = c.AddPack(testID("pack", 2), testEntries(0, 1))
		wantCorrupt(t, "AddPack over it", err, blob.String())
	})
	t.Run("bad type", func(t *testing.T) {
		val := make([]byte, locationSize)
		val[id.Size] = 7
		put(t, bucketBlobs, blob[:], val)
		_, _, err := c.Lookup(blob)
		wantCorrupt(t, "Lookup", err, blob.String())
	})
	t.Run("short key", func(t *testing.T) {
		put(t, bucketMerged, []byte("short"), []byte{})
		_, err := c.Merged()
		wantCorrupt(t, "Merged", err, "")
	})
	t.Run("pack value", func(t *testing.T) {
		pack := testID("pack", 1)
		put(t, bucketPacks, pack[:], []byte{1})
		err := c.ForEachPack(func(id.ID, int, uint64) error { return nil })
		wantCorrupt(t, "ForEachPack", err, pack.String())
	})
	t.Run("counters", func(t *testing.T) {
		put(t, bucketMeta, keyCounters, []byte{1})
		_, err := c.Stats()
		wantCorrupt(t, "Stats", err, "counters")
	})
	t.Run("missing bucket", func(t *testing.T) {
		if err := c.db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketTrees) }); err != nil {
			t.Fatal(err)
		}
		_, _, err := c.GetTree(blob)
		wantCorrupt(t, "GetTree", err, "trees")
	})
	t.Run("reopen repairs meta", func(t *testing.T) {
		// Counters and a bucket are broken above: Open resets.
		path := c.Path()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		c2, err := Open(path, testRepo)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if st := mustStats(t, c2); st != (Stats{}) {
			t.Errorf("Stats after repair = %+v", st)
		}
	})
}

func TestClosedCache(t *testing.T) {
	c := openTest(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Lookup(testID("blob", 0)); err == nil {
		t.Error("Lookup after Close succeeded")
	}
	if err := c.AddPack(testID("pack", 0), testEntries(0, 1)); err == nil {
		t.Error("AddPack after Close succeeded")
	}
}
