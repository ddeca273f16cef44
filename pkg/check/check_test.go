package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
)

// want is an expected problem: its kind and severity, and optionally an
// archive and a path suffix it must name.
type want struct {
	kind     string
	sev      Severity
	archive  string
	pathTail string
}

func TestFaults(t *testing.T) {
	t.Parallel()
	flip := func(off func(data []byte) int) func([]byte) []byte {
		return func(d []byte) []byte { d[off(d)] ^= 0x10; return d }
	}
	tests := []struct {
		name  string
		fault func(f *fixture)
		opts  Options
		want  []want
		// clean means no problem at all is expected.
		clean bool
	}{
		{name: "healthy", fault: func(*fixture) {}, clean: true},
		{name: "healthy verify-data", fault: func(*fixture) {}, opts: Options{VerifyData: true}, clean: true},
		{name: "data bit without verify-data", fault: flipDataBlob, clean: true},
		{name: "data bit", fault: flipDataBlob, opts: Options{VerifyData: true}, want: []want{
			{KindBlobDamaged, Damage, "a1", "docs/b.bin"}, {KindBlobDamaged, Damage, "a2", "docs/b.bin"}, {KindPackHash, Damage, "", ""}}},
		{name: "tree bit", fault: func(f *fixture) {
			_, tree := f.blobsOf("a1", f.srcPath("docs/b.bin"))
			loc := f.lookup(tree)
			f.modify(f.file(backend.PackFile, loc.Pack.String()), flip(func([]byte) int { return int(loc.Offset + loc.Length/2) }))
		}, want: []want{{KindTree, Damage, "a1", "/docs"}, {KindTree, Damage, "a2", "/docs"}}},
		{name: "trailer bit", fault: func(f *fixture) {
			locs, _ := f.blobsOf("a1", f.srcPath("docs/b.bin"))
			f.modify(f.file(backend.PackFile, locs[0].Pack.String()), flip(func(d []byte) int { return len(d) - 10 }))
		}, want: []want{{KindPackTrailer, Damage, "", ""}}},
		{name: "index file bit", fault: func(f *fixture) {
			for _, n := range f.files(backend.IndexFile) {
				f.modify(f.file(backend.IndexFile, n), flip(func(d []byte) int { return len(d) / 2 }))
			}
		}, want: []want{{KindIndexFile, Damage, "", ""}, {KindOrphanPack, Warning, "", ""}, {KindMissingBlob, Damage, "a1", "docs/b.bin"}}},
		{name: "archive record bit", fault: func(f *fixture) {
			n := f.archiveFile("a1")
			f.modify(f.file(backend.ArchiveFile, n), flip(func(d []byte) int { return len(d) / 2 }))
		}, want: []want{{KindArchiveRecord, Damage, "", ""}}},
		{name: "bad key file", fault: func(f *fixture) {
			writeFile(t, f.file(backend.KeyFile, id.Hash([]byte("k")).String()), []byte(`{"version": 1, "kdf": "argon2id"`))
		}, want: []want{{KindKey, Damage, "", ""}}},
		{name: "truncated pack", fault: func(f *fixture) {
			locs, _ := f.blobsOf("a1", f.srcPath("img/c.bin"))
			f.modify(f.file(backend.PackFile, locs[0].Pack.String()), func(d []byte) []byte { return d[:len(d)/3] })
		}, want: []want{{KindPackTrailer, Damage, "", ""}, {KindBlobDamaged, Damage, "a1", "img/c.bin"}, {KindBlobDamaged, Damage, "a2", "img/c.bin"}}},
		{name: "deleted pack", fault: func(f *fixture) {
			locs, _ := f.blobsOf("a1", f.srcPath("docs/b.bin"))
			if err := os.Remove(f.file(backend.PackFile, locs[0].Pack.String())); err != nil {
				t.Fatal(err)
			}
		}, want: []want{{KindMissingPack, Damage, "a1", "docs/b.bin"}, {KindMissingPack, Damage, "a2", "docs/b.bin"}}},
		{name: "deleted index file", fault: func(f *fixture) {
			for _, n := range f.files(backend.IndexFile) {
				if err := os.Remove(f.file(backend.IndexFile, n)); err != nil {
					t.Fatal(err)
				}
			}
		}, want: []want{{KindOrphanPack, Warning, "", ""}, {KindMissingBlob, Damage, "a1", "docs/a.txt"}, {KindMissingBlob, Damage, "a2", "y.bin"}}},
		{name: "junk under data", fault: func(f *fixture) {
			junk := []byte("not a pack at all")
			writeFile(t, f.file(backend.PackFile, id.Hash([]byte("x")).String()), junk)
			writeFile(t, filepath.Join(f.dir, "data", "zz", "zzjunk"), junk)
		}, want: []want{{KindOrphanPack, Warning, "", ""}, {KindJunk, Warning, "", ""}}},
		{name: "swapped blobs", fault: swapBlobs, opts: Options{VerifyData: true}, want: []want{
			{KindBlobDamaged, Damage, "a1", "x.bin"}, {KindBlobDamaged, Damage, "a2", "x.bin"}, {KindBlobDamaged, Damage, "a2", "y.bin"}, {KindPackHash, Damage, "", ""}}},
		{name: "unreadable lock", fault: func(f *fixture) {
			writeFile(t, f.file(backend.LockFile, id.Hash([]byte("l")).String()), []byte("garbage"))
		}, want: []want{{KindLock, Warning, "", ""}}},
		{name: "data bit subset 1/1", fault: flipDataBlob, opts: Options{Subset: &Subset{Part: 1, Parts: 1}}, want: []want{
			{KindBlobDamaged, Damage, "a1", "docs/b.bin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.fault(f)
			probs, sum := f.check(tt.opts)
			if tt.clean {
				if len(probs) != 0 {
					t.Errorf("want no problems, got %d:", len(probs))
				}
				for _, p := range probs {
					t.Log(p)
				}
				if sum.Archives != 2 || sum.Packs == 0 || sum.Trees == 0 || sum.PacksTrailer != sum.Packs {
					t.Errorf("summary %+v", sum)
				}
				if tt.opts.VerifyData && (sum.PacksRead != sum.Packs || sum.BlobsVerified < sum.IndexedBlobs) {
					t.Errorf("verify-data summary %+v", sum)
				}
				return
			}
			for _, w := range tt.want {
				ok := false
				for _, p := range find(probs, w.kind) {
					if p.Severity == w.sev && (w.archive == "" || names([]Problem{p}, w.kind, w.archive, w.pathTail)) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("no %s %s problem naming archive %q path *%s", w.sev, w.kind, w.archive, w.pathTail)
				}
			}
			if t.Failed() {
				for _, p := range probs {
					t.Log(p)
				}
			}
		})
	}
}

// flipDataBlob flips a bit in the first data blob of docs/b.bin.
func flipDataBlob(f *fixture) {
	locs, _ := f.blobsOf("a1", f.srcPath("docs/b.bin"))
	l := locs[0]
	f.modify(f.file(backend.PackFile, l.Pack.String()), func(d []byte) []byte {
		d[l.Offset+l.Length/2] ^= 1
		return d
	})
}

// swapBlobs exchanges the sealed blobs of x.bin and y.bin, which are the
// same size and in different packs.
func swapBlobs(f *fixture) {
	x, _ := f.blobsOf("a2", f.srcPath("x.bin"))
	y, _ := f.blobsOf("a2", f.srcPath("y.bin"))
	lx, ly := x[0].Location, y[0].Location
	if lx.Length != ly.Length || lx.Pack == ly.Pack {
		f.t.Fatalf("x.bin and y.bin blobs: %+v %+v", lx, ly)
	}
	px, py := f.file(backend.PackFile, lx.Pack.String()), f.file(backend.PackFile, ly.Pack.String())
	dx, err := os.ReadFile(px)
	if err != nil {
		f.t.Fatal(err)
	}
	dy, err := os.ReadFile(py)
	if err != nil {
		f.t.Fatal(err)
	}
	bx := append([]byte(nil), dx[lx.Offset:lx.Offset+lx.Length]...)
	by := append([]byte(nil), dy[ly.Offset:ly.Offset+ly.Length]...)
	f.modify(px, func(d []byte) []byte { copy(d[lx.Offset:], by); return d })
	f.modify(py, func(d []byte) []byte { copy(d[ly.Offset:], bx); return d })
}

// archiveFile returns the record file name of archive a.
func (f *fixture) archiveFile(a string) string {
	f.t.Helper()
	r := f.open()
	ctx := context.Background()
	ids, err := r.ListArchives(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for aid := range ids {
		data, err := r.LoadArchive(ctx, aid)
		if err != nil {
			f.t.Fatal(err)
		}
		if rec, err := archive.DecodeRecord(data); err == nil && rec.Name == a {
			return aid.String()
		}
	}
	f.t.Fatalf("no archive %s", a)
	return ""
}

func TestOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	flipDataBlob(f)
	tests := []struct {
		name     string
		o        Options
		archives []string // archives the blob-damaged problems may name
		damage   bool
	}{
		{"one archive", Options{VerifyData: true, Archive: "a2"}, []string{"a2"}, true},
		{"repository only", Options{VerifyData: true, RepositoryOnly: true}, []string{""}, true},
		{"archives only", Options{ArchivesOnly: true}, nil, false},
		{"subset not selecting the pack", Options{Subset: &Subset{Part: 1, Parts: 1 << 40}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs, sum := f.check(tt.o)
			if (sum.Damage > 0) != tt.damage {
				t.Errorf("damage %d, want %v: %v", sum.Damage, tt.damage, probs)
			}
			for _, p := range find(probs, KindBlobDamaged) {
				if !slices.Contains(tt.archives, p.Archive) {
					t.Errorf("problem names archive %q, want one of %q: %s", p.Archive, tt.archives, p)
				}
			}
		})
	}
	if _, err := Check(context.Background(), f.open(), Options{RepositoryOnly: true, ArchivesOnly: true}, nil); !errors.Is(err, ErrOptions) {
		t.Errorf("both -only options: %v, want ErrOptions", err)
	}
	probs, _ := f.check(Options{Archive: "nope"})
	if len(find(probs, KindArchiveMissing)) != 1 {
		t.Errorf("unknown archive: %v", probs)
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	flipDataBlob(f)
	before := snapshot(t, f.dir)
	probs, _ := f.check(Options{VerifyData: true})
	if len(probs) == 0 {
		t.Error("damage not found")
	}
	if after := snapshot(t, f.dir); after != before {
		t.Errorf("check changed the repository:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// snapshot lists every file of dir with its size and modification time.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var out string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out += p + "/\n"
			return nil
		}
		out += fmt.Sprintf("%s %d %s\n", p, fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
