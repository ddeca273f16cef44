package check

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// newSplitDirFixture makes a repository with archives b1 and b2 of a
// directory "big" large enough to be stored as a split tree.
func newSplitDirFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(base, "repo"), src: filepath.Join(base, "src"),
		opts: repo.Options{Passphrase: func() ([]byte, error) { return testPass, nil }, CacheDir: filepath.Join(base, "cache")}}
	for i := range 12000 {
		name := fmt.Sprintf("%05d-%s", i, id.Hash([]byte(fmt.Sprint(i))))
		name += id.Hash([]byte(name)).String()
		writeFile(t, filepath.Join(f.src, "big", name), nil)
	}
	writeFile(t, filepath.Join(f.src, "small.txt"), []byte("small"))
	be, err := local.Create(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), be, repo.InitOptions{Options: f.opts, KDF: crypto.TestKDF,
		Chunker: testChunker, PackSize: repo.MinPackSize})
	if err != nil {
		t.Fatal(err)
	}
	f.create(r, "b1")
	f.create(r, "b2")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// damageSplitPart flips a byte of one part of big/'s split tree, choosing a
// part stored in another pack than the tree naming the parts (so the check
// before the repair, which reports the index tree, does not salvage it).
func damageSplitPart(f *fixture) id.ID {
	f.t.Helper()
	r := f.open()
	ctx := context.Background()
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil {
		f.t.Fatal(err)
	}
	var bigTree id.ID
	err = archive.Walk(ctx, r, list[len(list)-1].Record.TreeID(), func(p []byte, n *archive.Node) error {
		if n.Type == archive.TypeDir && string(n.Name) == "big" {
			bigTree = n.SubtreeID()
		}
		return nil
	})
	if err != nil || bigTree.IsNull() {
		f.t.Fatal("no big/", err)
	}
	data, err := r.LoadBlob(ctx, bigTree, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	tr, err := archive.DecodeTree(data)
	if err != nil || len(tr.Parts) < 2 {
		f.t.Fatalf("big/ is not split: %v", err)
	}
	tl, _, _ := r.Lookup(bigTree)
	for _, raw := range tr.Parts {
		var p id.ID
		copy(p[:], raw)
		l, ok, err := r.Lookup(p)
		if err != nil || !ok {
			f.t.Fatal(err)
		}
		if l.Pack == tl.Pack {
			continue
		}
		f.modify(f.file(backend.PackFile, l.Pack.String()), func(d []byte) []byte {
			d[l.Offset+l.Length/2] ^= 1
			return d
		})
		return p
	}
	f.t.Skip("every part is in the pack of the index tree")
	return id.ID{}
}

// A repair interrupted (Ctrl-C, kill) after it rewrote the archives but
// before dropUnreadable salvaged the pack of the damaged tree part leaves
// the damaged part indexed. No archive references it any more, so the
// re-run's check finds nothing and the repair returns at once: the job is
// never finished. A later backup of the same (intact) directory then
// produces the same part, deduplicates against the damaged copy, and the
// new archive is broken.
func TestReview2InterruptedRepairLeavesDamagedPartIndexed(t *testing.T) {
	f := newSplitDirFixture(t)
	part := damageSplitPart(f)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := f.open()
	_, err := Repair(ctx, r, RepairOptions{Log: func(s string) {
		if strings.HasPrefix(s, `archive "b2"`) {
			cancel() // interrupted right after the last rewrite
		}
	}}, nil)
	t.Logf("interrupted repair: %v", err)
	r.Close()

	r = f.open()
	res, err := Repair(context.Background(), r, RepairOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("re-run: before ok=%v, archives rewritten %d", res.Before.OK(), len(res.Archives))
	if _, ok, _ := r.Lookup(part); ok {
		t.Errorf("after the re-run of the repair, the damaged tree part %s is still indexed", part.Short())
	}
	// A backup of the intact source dedups against the damaged part.
	f.create(r, "b3")
	r.Close()
	probs, sum := f.check(Options{})
	if !sum.OK() {
		t.Errorf("a backup made after the repair is damaged: %d problems, first %+v", len(probs), probs[0])
	}
}

// Control: the same damage, repaired without interruption, heals.
func TestReview2UninterruptedRepairHealsSplitPart(t *testing.T) {
	f := newSplitDirFixture(t)
	damageSplitPart(f)
	r := f.open()
	if _, err := Repair(context.Background(), r, RepairOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	f.create(r, "b3")
	r.Close()
	probs, sum := f.check(Options{})
	if !sum.OK() {
		t.Errorf("damaged: %+v", probs)
	}
}

// After a repair that dropped a damaged data blob and a tree part, compact
// (repacking everything) keeps every blob the repaired archives use, and a
// full check passes; the undamaged files extract byte-exact.
func TestReview2CompactAfterRepair(t *testing.T) {
	f := newFixture(t)
	flipDataBlob(f)
	ctx := context.Background()
	r := f.open()
	if _, err := Repair(ctx, r, RepairOptions{Options: Options{VerifyData: true}}, nil); err != nil {
		t.Fatal(err)
	}
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	// delete a1, compact with every pack repacked.
	if err := r.DeleteArchive(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	list = list[1:]
	if _, err := r.Compact(ctx, repo.CompactOptions{Threshold: 1e-9, Used: func(mark func(id.ID) (bool, error)) error {
		return archive.UsedBlobs(ctx, r, list, mark)
	}}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	probs, sum := f.check(Options{VerifyData: true})
	if !sum.OK() {
		t.Fatalf("after repair + compact: %+v", probs)
	}
	r = f.open()
	dest := t.TempDir()
	if _, err := archive.Extract(ctx, r, list[0].Record, archive.ExtractOptions{Destination: dest}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"docs/a.txt", "img/c.bin", "x.bin", "y.bin"} {
		want, _ := os.ReadFile(filepath.Join(f.src, rel))
		got, err := os.ReadFile(filepath.Join(dest, f.srcPath(rel)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs after repair + compact: %v", rel, err)
		}
	}
}

// A client whose cache predates the repair (another machine, or the cache
// of the backups) must not keep a blob the repair dropped: a backup would
// deduplicate against it.
func TestReview2StaleCacheForgetsDroppedBlob(t *testing.T) {
	f := newFixture(t)
	locs, _ := f.blobsOf("a1", f.srcPath("docs/b.bin"))
	flipDataBlob(f)
	ctx := context.Background()
	r := f.open() // fresh cache
	if _, err := Repair(ctx, r, RepairOptions{Options: Options{VerifyData: true}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Lookup(locs[0].ID); ok {
		t.Fatal("the repair did not drop the damaged blob")
	}
	r.Close()
	be, err := local.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	old, err := repo.Open(ctx, be, f.opts) // the cache used by the backups
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if l, ok, _ := old.Lookup(locs[0].ID); ok {
		t.Errorf("a stale cache still places the dropped blob in pack %s", l.Pack.Short())
	}
}

// A directory that lost one part of its split tree keeps the nodes of the
// other parts, but the log and the record's warnings say it is "now empty".
func TestReview2PartialDirLostText(t *testing.T) {
	got := lostText(archive.Lost{Path: "big", Dir: true, Partial: true})
	if strings.Contains(got, "now empty") {
		t.Errorf("partly lost directory described as %q", got)
	}
}

// A tree part stored in two packs (two backups running at once both upload
// it): the copy the index locates is damaged, the other is good. Without
// --verify-data the check reports the split tree's index blob, whose pack
// is salvaged; the part's pack is not. The Repairer then loads the part
// from the damaged copy only (LoadBlob tries one location), counts it as
// lost and rewrites the archives without its nodes. Only afterwards does
// dropUnreadable salvage the damaged pack, find the good copy in the other
// pack and keep the part: the archives lost good data for nothing.
func TestReview2RepairLosesPartWithGoodCopyElsewhere(t *testing.T) {
	for _, junk := range []bool{false, true} {
		t.Run(fmt.Sprintf("other damage %v", junk), func(t *testing.T) { review2GoodCopyElsewhere(t, junk) })
	}
}

func review2GoodCopyElsewhere(t *testing.T, junk bool) {
	base := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(base, "repo"), src: filepath.Join(base, "src"),
		opts: repo.Options{Passphrase: func() ([]byte, error) { return testPass, nil }, CacheDir: filepath.Join(base, "cache")}}
	for i := range 12000 {
		name := fmt.Sprintf("%05d-%s", i, id.Hash([]byte(fmt.Sprint(i))))
		name += id.Hash([]byte(name)).String()
		writeFile(t, filepath.Join(f.src, "big", name), nil)
	}
	ctx := context.Background()
	be, err := local.Create(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(ctx, be, repo.InitOptions{Options: f.opts, KDF: crypto.TestKDF,
		Chunker: testChunker, PackSize: repo.MinPackSize})
	if err != nil {
		t.Fatal(err)
	}
	// A second writer, opened before the first one writes.
	be2, _ := local.Open(f.dir)
	o2 := f.opts
	o2.CacheDir = t.TempDir()
	r2, err := repo.Open(ctx, be2, o2)
	if err != nil {
		t.Fatal(err)
	}
	f.create(r, "b1")
	f.create(r, "b2")
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var bigTree id.ID
	archive.Walk(ctx, r, list[0].Record.TreeID(), func(p []byte, n *archive.Node) error {
		if n.Type == archive.TypeDir && string(n.Name) == "big" {
			bigTree = n.SubtreeID()
		}
		return nil
	})
	data, err := r.LoadBlob(ctx, bigTree, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := archive.DecodeTree(data)
	if err != nil || len(tr.Parts) < 2 {
		t.Fatalf("big/ not split: %v", err)
	}
	tl, _, _ := r.Lookup(bigTree)
	var part id.ID
	for _, raw := range tr.Parts {
		copy(part[:], raw)
		if l, _, _ := r.Lookup(part); l.Pack != tl.Pack {
			break
		}
	}
	plain, err := r.LoadBlob(ctx, part, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, _, err := r2.SaveBlob(ctx, id.TreeBlob, plain); err != nil {
		t.Fatal(err)
	}
	if err := r2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r2.Close()

	// Damage the copy that the index locates.
	l := f.lookup(part)
	if l.Pack == tl.Pack {
		t.Skip("located copy is in the pack of the index tree")
	}
	f.modify(f.file(backend.PackFile, l.Pack.String()), func(d []byte) []byte {
		d[l.Offset+l.Length/2] ^= 1
		return d
	})
	if junk {
		// Some other problem, so that the repair runs at all: archive
		// b2's record rots.
		f.modify(f.file(backend.ArchiveFile, f.archiveFile("b2")), func(d []byte) []byte {
			d[len(d)/2] ^= 1
			return d
		})
	}
	r = f.open()
	if _, err := r.LoadBlob(ctx, part, nil); err == nil {
		t.Fatal("the located copy is not the damaged one")
	}
	res, err := Repair(ctx, r, RepairOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before: ok=%v damage=%d warnings=%d", res.Before.OK(), res.Before.Damage, res.Before.Warnings)
	for _, a := range res.Archives {
		t.Errorf("archive %s rewritten, lost %+v, although a verified copy of part %s is in another pack", a.Name, a.Lost, part.Short())
	}
	if _, err := r.LoadBlob(ctx, part, nil); err != nil {
		t.Errorf("part after repair: %v", err)
	}
	list, _, err = archive.ListArchives(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var warns []string
	st, err := archive.Extract(ctx, r, list[0].Record, archive.ExtractOptions{Destination: t.TempDir(),
		Warn: func(p []byte, err error) { warns = append(warns, fmt.Sprintf("%s: %v", p, err)) }})
	t.Logf("extract: %+v %v", st, err)
	if err != nil || st.Warnings() || st.Errors() {
		t.Errorf("extract of %s after the repair (check said: ok=%v): %v, %d warnings, first %q", list[0].Record.Name, res.After.OK(), err, len(warns), warns[:min(1, len(warns))])
	}
}
