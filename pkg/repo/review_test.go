package repo

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"syscall"

	"github.com/gobak/gobak/pkg/backend/mem"
	"github.com/gobak/gobak/pkg/crypto"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// A pack of many small blobs (small files, small trees) gets a trailer
// larger than format.MaxTrailerLength; PackBlobs then calls the healthy pack
// damaged, and RebuildIndex drops it and deletes the index file that named it.
func TestReviewManySmallBlobsTrailer(t *testing.T) {
	r, dir, o := newLocalRepo(t, nil) // default 16 MiB packs
	ctx := context.Background()
	const n = 110000
	var first id.ID
	for i := 0; i < n; i++ {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(i))
		bid, _, err := r.SaveBlob(ctx, id.TreeBlob, b[:])
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = bid
		}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	loc, ok, _ := r.Lookup(first)
	if !ok {
		t.Fatal("not indexed")
	}
	if _, _, err := r.PackBlobs(ctx, loc.Pack); err != nil {
		t.Errorf("PackBlobs on a pack gobak itself just wrote: %v", err)
	}
	res, err := r.RebuildIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuild: packs=%d blobs=%d damaged=%d removed=%d", res.Packs, res.Blobs, len(res.Damaged), len(res.Removed))
	r.Close()
	r2 := reopen(t, dir, o)
	if _, err := r2.LoadBlob(ctx, first, nil); err != nil {
		t.Fatalf("after RebuildIndex on a healthy repository, blob lost: %v", err)
	}
}

// Compaction crashed after writing index C (superseding A and B) and
// deleting the pack only A named, before deleting A and B. The first Open
// handles it; the second Open merges A again, so the cache claims a blob
// whose pack is gone, SaveBlob dedups against it and the new backup
// references a blob that does not exist.
func TestReviewSupersededMergedOnSecondOpen(t *testing.T) {
	r, dir, o := newLocalRepo(t, nil)
	ctx := context.Background()
	x := []byte("blob X: only in pack PA, dropped by compaction")
	y := []byte("blob Y: kept")
	bx, _, _ := r.SaveBlob(ctx, id.DataBlob, x)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	filesA, _ := r.ListIndexFiles(ctx)
	r.SaveBlob(ctx, id.DataBlob, y)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := r.ListIndexFiles(ctx)
	var a, b id.ID
	for f := range files {
		if filesA.Has(f) {
			a = f
		} else {
			b = f
		}
	}
	ixA, err := r.LoadIndexFile(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	ixB, err := r.LoadIndexFile(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	// "compact": new index C supersedes A and B and keeps only B's pack;
	// A's pack is deleted; crash before A and B are removed.
	if _, err := r.saveIndexFile(ctx, &format.Index{Supersedes: []id.ID{a, b}, Packs: ixB.Packs}); err != nil {
		t.Fatal(err)
	}
	if err := r.Backend().Remove(ctx, backend.Handle{Type: backend.PackFile, Name: ixA.Packs[0].ID.String()}); err != nil {
		t.Fatal(err)
	}
	r.Close()

	r1 := reopen(t, dir, o)
	if ok, _ := r1.HasBlob(bx); ok {
		t.Fatal("first open: X still known")
	}
	r1.Close()

	r2 := reopen(t, dir, o)
	ok, _ := r2.HasBlob(bx)
	_, stored, err := r2.SaveBlob(ctx, id.DataBlob, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.LoadBlob(ctx, bx, nil); err != nil {
		t.Fatalf("second open: HasBlob(X)=%v, SaveBlob stored=%v, Flush ok, yet X does not load: %v", ok, stored, err)
	}
}

// RebuildIndex writes several index files, each superseding every old one.
// If it stops after the first (crash, full disk), the old files still exist
// but are ignored as superseded, so the packs the unwritten files would have
// named are in no usable index file.
func TestReviewRebuildIndexPartial(t *testing.T) {
	ctx := context.Background()
	under := mem.New()
	o := Options{Passphrase: passFunc(testPass), CacheDir: t.TempDir()}
	r, err := Init(ctx, under, InitOptions{Options: o, KDF: crypto.TestKDF, PackSize: MinPackSize})
	if err != nil {
		t.Fatal(err)
	}
	var ids []id.ID
	for i := 0; i < 60000; i++ {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(i))
		bid, _, err := r.SaveBlob(ctx, id.DataBlob, b[:])
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, bid)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()

	var indexSaves atomic.Int32
	faulty := &mem.Faulty{Backend: under, FailSave: func(h backend.Handle, n int) error {
		if h.Type == backend.IndexFile && indexSaves.Add(1) > 1 {
			return syscall.ENOSPC
		}
		return nil
	}}
	r2, err := Open(ctx, faulty, o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r2.RebuildIndex(ctx)
	t.Logf("rebuild (second index file fails): %v", err)
	r2.Close()

	r3, err := Open(ctx, under, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	lost := 0
	for _, bid := range ids {
		if _, err := r3.LoadBlob(ctx, bid, nil); err != nil {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d blobs unreachable after an interrupted RebuildIndex (old index files still present)", lost, len(ids))
	}
}

// A transient read error (network hiccup) on the superseding index file at
// Open is treated like damage: the file is skipped, so the superseded files
// it would have hidden are merged, with entries for packs compaction deleted.
func TestReviewTransientLoadErrorMergesSuperseded(t *testing.T) {
	ctx := context.Background()
	under := mem.New()
	o := Options{Passphrase: passFunc(testPass), CacheDir: t.TempDir()}
	r, err := Init(ctx, under, InitOptions{Options: o, KDF: crypto.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	x := []byte("blob X, dropped by compaction")
	bx, _, _ := r.SaveBlob(ctx, id.DataBlob, x)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := r.ListIndexFiles(ctx)
	var a id.ID
	for f := range files {
		a = f
	}
	ixA, _ := r.LoadIndexFile(ctx, a)
	c, err := r.saveIndexFile(ctx, &format.Index{Supersedes: []id.ID{a}})
	if err != nil {
		t.Fatal(err)
	}
	under.Remove(ctx, backend.Handle{Type: backend.PackFile, Name: ixA.Packs[0].ID.String()})
	r.Close()

	o2 := o
	o2.CacheDir = t.TempDir() // fresh cache
	faulty := &mem.Faulty{Backend: under, FailLoad: func(h backend.Handle, n int) error {
		if h.Type == backend.IndexFile && h.Name == c.String() {
			return syscall.ECONNRESET
		}
		return nil
	}}
	r2, err := Open(ctx, faulty, o2)
	if err != nil {
		t.Logf("open fails on the unreadable index file (correct): %v", err)
		return
	}
	defer r2.Close()
	_, stored, _ := r2.SaveBlob(ctx, id.DataBlob, x)
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.LoadBlob(ctx, bx, nil); err != nil {
		t.Fatalf("Open succeeded despite an unreadable index file; SaveBlob stored=%v; X lost: %v", stored, err)
	}
}

// A lock removed by another process as stale (holder suspended > 30 min,
// clock skew) is silently re-created by Refresh: the holder never learns it
// lost the lock while someone else holds an exclusive one.
func TestReviewLockLostUnnoticed(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	l1, err := AcquireLock(ctx, be, true, LockOptions{Hostname: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// Another host finds it stale and removes it, then locks exclusively.
	l1.mu.Lock()
	h := l1.handle
	l1.mu.Unlock()
	be.Remove(ctx, h)
	l2, err := AcquireLock(ctx, be, true, LockOptions{Hostname: "b"})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Unlock(ctx)
	if err := l1.Refresh(ctx); err == nil && l1.Err() == nil {
		t.Fatal("holder 1 refreshed a lock it had lost, without error, while holder 2 holds an exclusive lock")
	}
}
