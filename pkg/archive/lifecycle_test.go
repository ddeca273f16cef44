package archive_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/prune"
	"github.com/gobak/gobak/pkg/repo"
)

var (
	lcSeed  = flag.Uint64("lifecycle.seed", 7, "seed of TestLifecycleRandom's step sequence")
	lcSteps = flag.Int("lifecycle.steps", 40, "number of steps of TestLifecycleRandom")
)

// lcChunker is small, so that files have many chunks, and its Max is
// small enough that files above about 128 KiB keep their extents in
// extent-list blobs (Node.ContentParts).
var lcChunker = chunker.Params{Min: 512, Avg: 1 << 10, Max: 4 << 10}

const lcHost = "lifecycle"

// lcFull is a compaction threshold so small that every pack with an unused
// blob is repacked: a sealed blob is far more than lcFull of a pack.
// (0.0001 is not: a 57-byte blob in a 1 MiB pack stays.)
const lcFull = 1e-9

var lcDirs = []string{"", "a", "a/b", "c", "d/e"}

// lcArchive is the model of one live archive: what its source held.
type lcArchive struct {
	name  string
	id    id.ID
	files map[string][]byte
}

// lcChunk is one chunk of a file as the chunker cuts it.
type lcChunk struct {
	id   id.ID
	size int
}

// lcEnv is the test's world: the repository, the source tree on disk, and
// the model of both.
type lcEnv struct {
	t                       *testing.T
	ctx                     context.Context
	rng                     *rand.Rand
	repoDir, cacheDir, src  string
	scratch                 string
	r                       *repo.Repo
	files                   map[string][]byte // the source tree's content
	history                 [][]byte          // contents seen, to bring back
	lib                     [][]byte          // shared blocks, for dedup
	live                    map[string]*lcArchive
	archTime, mtime         time.Time
	seq, fileSeq            int
	chunks                  map[id.ID][]lcChunk // content hash -> chunks
	mix                     map[string]int
	verifies, fullVerifies  int
	maxLive, totalExtracted int
}

// TestLifecycleRandom runs a long, seeded random sequence of create (of a
// source tree mutated between backups), delete, prune, compact and
// repository reopening (sometimes with a fresh cache). After every compact
// and at the end it checks that every live archive extracts byte-exact,
// that the archive list is the model's, that every archive's recorded
// sizes match its content, and that the index holds every blob the
// archives use; after a compact that repacks everything it checks that
// the index holds exactly those blobs and nothing else.
func TestLifecycleRandom(t *testing.T) {
	steps := *lcSteps
	if testing.Short() || lcRace() {
		steps = min(steps, 15)
	}
	e := newLCEnv(t, *lcSeed)
	for step := range steps {
		switch p := e.rng.IntN(100); {
		case p < 70 || len(e.live) == 0:
			e.create()
		case p < 80:
			e.deleteRandom()
		case p < 90:
			e.prune()
		default:
			th := []float64{lcFull, 0.0001, 0.1, 0.5}[e.rng.IntN(4)]
			e.compact(th)
			e.verify(th == lcFull)
		}
		if step%5 == 4 {
			e.reopen(step%10 == 9)
		}
		if t.Failed() {
			t.Fatalf("failed at step %d (seed %d, chunker polynomial %v)", step, *lcSeed, e.r.Config().Polynomial)
		}
	}
	seqMix := maps.Clone(e.mix)
	e.verify(false)
	e.compact(lcFull)
	e.verify(true)
	// A second full compaction finds nothing to do.
	res := e.compact(lcFull)
	if res.PacksDeleted+res.PacksRepacked+res.OrphansDeleted != 0 || res.BytesUnusedLeft != 0 {
		t.Errorf("second compact did something: %+v", res)
	}
	st, err := e.r.Stats(e.ctx)
	e.must(err)
	t.Logf("seed %d, %d steps: %v; %d verifications (%d exact), %d archive extractions, at most %d live archives",
		*lcSeed, steps, seqMix, e.verifies, e.fullVerifies, e.totalExtracted, e.maxLive)
	t.Logf("final: %d archives, %d source files; %d packs, %d blobs (%d data), data raw %d B, stored %d B",
		len(e.live), len(e.files), st.Packs, st.Blobs, st.DataBlobs, st.DataRaw, st.StoredBytes)
	if steps >= 40 && (seqMix["create"] == 0 || seqMix["compact"] == 0 || seqMix["delete"]+seqMix["prune"] == 0 || seqMix["fresh cache"] == 0) {
		t.Errorf("the sequence did not exercise every operation: %v", seqMix)
	}
	if n := e.countContentParts(); n == 0 {
		t.Errorf("no file of the live archives uses extent-list blobs; lcChunker is too coarse")
	} else {
		t.Logf("%d file nodes with extent-list blobs", n)
	}
}

// countContentParts counts the file nodes of the live archives that keep
// their extents in extent-list blobs.
func (e *lcEnv) countContentParts() int {
	e.t.Helper()
	list, _, err := archive.ListArchives(e.ctx, e.r)
	e.must(err)
	n := 0
	var walk func(tree id.ID)
	walk = func(tree id.ID) {
		nodes, err := archive.LoadTree(e.ctx, e.r, tree)
		e.must(err)
		for _, nd := range nodes {
			switch {
			case nd.Type == archive.TypeDir:
				walk(nd.SubtreeID())
			case len(nd.ContentParts) > 0:
				n++
			}
		}
	}
	for _, a := range list {
		walk(a.Record.TreeID())
	}
	return n
}

func newLCEnv(t *testing.T, seed uint64) *lcEnv {
	t.Helper()
	base := t.TempDir()
	e := &lcEnv{
		t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, 0x11fec7c1e)),
		repoDir: filepath.Join(base, "repo"), cacheDir: filepath.Join(base, "cache"),
		src: filepath.Join(base, "src"), scratch: filepath.Join(base, "x"),
		files: map[string][]byte{}, live: map[string]*lcArchive{},
		chunks: map[id.ID][]lcChunk{}, mix: map[string]int{},
	}
	// Archive times lie in the future so that no file looks racy to
	// Create (see racyWindow) and parents are really used; file mtimes
	// are set explicitly, unique and in the past, so that every content
	// change is seen even within one timestamp tick.
	e.archTime = time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	e.mtime = time.Now().Add(-365 * 24 * time.Hour)
	be, err := local.Create(e.repoDir)
	e.must(err)
	e.r, err = repo.Init(e.ctx, be, repo.InitOptions{
		Options: e.repoOptions(), KDF: crypto.TestKDF,
		PackSize: repo.MinPackSize, Chunker: lcChunker,
	})
	e.must(err)
	t.Cleanup(func() { e.r.Close() })
	for range 6 {
		e.lib = append(e.lib, lcRandom(e.rng, 96<<10))
	}
	for _, d := range lcDirs {
		if err := os.MkdirAll(filepath.Join(e.src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for range 30 {
		e.write(e.newPath(), e.genContent())
	}
	return e
}

// lcRace reports whether the race detector is on; the test then runs
// fewer steps.
func lcRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// must stops the test on an error of the test's own setup.
func (e *lcEnv) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *lcEnv) repoOptions() repo.Options {
	return repo.Options{Passphrase: func() ([]byte, error) { return []byte("pw"), nil }, CacheDir: e.cacheDir}
}

func lcRandom(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// genContent returns new file content: random, text, pieces of the shared
// blocks (so that files share chunks), a copy of another file, or content
// seen before (whose blobs a compaction may have removed).
func (e *lcEnv) genContent() []byte {
	size := e.rng.IntN(300 << 10)
	switch k := e.rng.IntN(10); {
	case k == 0:
		return nil
	case k == 1:
		return lcRandom(e.rng, e.rng.IntN(200))
	case k <= 3:
		return lcRandom(e.rng, size)
	case k == 4:
		var b bytes.Buffer
		words := []string{"backup ", "prune ", "compact ", "archive ", "\n", "chunk "}
		for b.Len() < size {
			b.WriteString(words[e.rng.IntN(len(words))])
		}
		return b.Bytes()[:size]
	case k <= 6:
		var b []byte
		for len(b) < size {
			blk := e.lib[e.rng.IntN(len(e.lib))]
			off := e.rng.IntN(len(blk))
			b = append(b, blk[off:min(len(blk), off+size-len(b))]...)
		}
		return b
	case k == 7 && len(e.files) > 0:
		return e.files[e.randomFile()]
	case len(e.history) > 0:
		return e.history[e.rng.IntN(len(e.history))]
	}
	return lcRandom(e.rng, size)
}

func (e *lcEnv) newPath() string {
	e.fileSeq++
	return filepath.Join(lcDirs[e.rng.IntN(len(lcDirs))], fmt.Sprintf("f%03d", e.fileSeq))
}

func (e *lcEnv) randomFile() string {
	names := slices.Sorted(maps.Keys(e.files))
	return names[e.rng.IntN(len(names))]
}

// touch gives a file a unique mtime.
func (e *lcEnv) touch(p string) {
	e.t.Helper()
	e.mtime = e.mtime.Add(time.Second)
	e.must(os.Chtimes(filepath.Join(e.src, p), e.mtime, e.mtime))
}

// write replaces a file's content (in place when it exists).
func (e *lcEnv) write(p string, data []byte) {
	e.t.Helper()
	e.must(os.WriteFile(filepath.Join(e.src, p), data, 0o644))
	e.touch(p)
	e.files[p] = data
	e.history = append(e.history, data)
}

// writeAt writes data into an existing file at off, in place.
func (e *lcEnv) writeAt(p string, data []byte, off int64) {
	e.t.Helper()
	f, err := os.OpenFile(filepath.Join(e.src, p), os.O_WRONLY, 0)
	e.must(err)
	_, err = f.WriteAt(data, off)
	e.must(err)
	e.must(f.Close())
	e.touch(p)
}

// mutate changes the source tree in a few random ways.
func (e *lcEnv) mutate() {
	e.t.Helper()
	for range 1 + e.rng.IntN(4) {
		k := e.rng.IntN(8)
		switch {
		case len(e.files) < 20:
			k = 0
		case len(e.files) > 40:
			k = 1
		}
		switch k {
		case 0: // add
			e.write(e.newPath(), e.genContent())
		case 1: // delete
			p := e.randomFile()
			e.must(os.Remove(filepath.Join(e.src, p)))
			delete(e.files, p)
		case 2: // rename, sometimes over another file
			p, q := e.randomFile(), e.newPath()
			if e.rng.IntN(3) == 0 {
				q = e.randomFile()
			}
			if p == q {
				continue
			}
			e.must(os.Rename(filepath.Join(e.src, p), filepath.Join(e.src, q)))
			e.files[q] = e.files[p]
			delete(e.files, p)
		case 3: // append
			p := e.randomFile()
			add := lcRandom(e.rng, 1+e.rng.IntN(20<<10))
			e.writeAt(p, add, int64(len(e.files[p])))
			e.files[p] = append(slices.Clip(e.files[p]), add...)
		case 4: // rewrite part of a file in place
			p := e.randomFile()
			old := e.files[p]
			if len(old) == 0 {
				continue
			}
			off := e.rng.IntN(len(old))
			patch := lcRandom(e.rng, min(len(old)-off, 1+e.rng.IntN(8<<10)))
			e.writeAt(p, patch, int64(off))
			c := slices.Clone(old)
			copy(c[off:], patch)
			e.files[p] = c
		case 5: // truncate
			p := e.randomFile()
			n := e.rng.IntN(len(e.files[p]) + 1)
			e.must(os.Truncate(filepath.Join(e.src, p), int64(n)))
			e.touch(p)
			e.files[p] = e.files[p][:n:n]
		default: // replace the whole content
			e.write(e.randomFile(), e.genContent())
		}
	}
}

func (e *lcEnv) create() {
	e.t.Helper()
	e.mix["create"]++
	if e.seq > 0 {
		e.mutate()
	}
	e.seq++
	e.archTime = e.archTime.Add(time.Duration(1+e.rng.IntN(50)) * time.Hour)
	list, _, err := archive.ListArchives(e.ctx, e.r)
	e.must(err)
	cfg := e.r.Config()
	name := fmt.Sprintf("arch-%03d", e.seq)
	_, aid, err := archive.Create(e.ctx, e.r, e.r, archive.CreateOptions{
		Name: name, Paths: []string{e.src}, Hostname: lcHost, Time: e.archTime,
		Polynomial: cfg.Polynomial, Chunker: cfg.Chunker,
		Parent: archive.FindParent(list, lcHost, [][]byte{[]byte(e.src)}),
		Warn:   func(p string, err error) { e.t.Errorf("create %s: warning %s: %v", name, p, err) },
	})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
	e.live[name] = &lcArchive{name: name, id: aid, files: maps.Clone(e.files)}
	e.maxLive = max(e.maxLive, len(e.live))
}

func (e *lcEnv) deleteRandom() {
	e.t.Helper()
	e.mix["delete"]++
	names := slices.Sorted(maps.Keys(e.live))
	a := e.live[names[e.rng.IntN(len(names))]]
	if err := e.r.DeleteArchive(e.ctx, a.id); err != nil {
		e.t.Fatalf("delete %s: %v", a.name, err)
	}
	delete(e.live, a.name)
}

func (e *lcEnv) prune() {
	e.t.Helper()
	e.mix["prune"]++
	count := func() int { return e.rng.IntN(5) - 1 } // -1 is unlimited
	p := prune.Policy{Last: count(), Daily: count(), Weekly: count(), Monthly: count()}
	if e.rng.IntN(4) == 0 {
		p.Within = time.Duration(1+e.rng.IntN(72)) * time.Hour
	}
	if p.Empty() {
		p.Daily = 1
	}
	list, _, err := archive.ListArchives(e.ctx, e.r)
	e.must(err)
	var in []prune.Archive
	for _, a := range list {
		in = append(in, prune.Archive{Name: a.Record.Name, Time: a.Time, ID: a.ID})
	}
	ds := prune.Apply(in, p, e.archTime.Add(time.Hour), time.UTC)
	if len(ds) != len(in) || len(ds) > 0 && !ds[0].Keep {
		e.t.Fatalf("prune %+v: %d decisions for %d archives, the newest not kept: %v", p, len(ds), len(in), ds)
	}
	for _, d := range ds {
		if d.Keep {
			continue
		}
		if err := e.r.DeleteArchive(e.ctx, d.Archive.ID); err != nil {
			e.t.Fatalf("prune %s: %v", d.Archive.Name, err)
		}
		delete(e.live, d.Archive.Name)
	}
}

// used returns every blob the live archives reach, as UsedBlobs marks them.
func (e *lcEnv) used() id.Set {
	e.t.Helper()
	list, bad, err := archive.ListArchives(e.ctx, e.r)
	if err != nil || len(bad) != 0 {
		e.t.Fatalf("list archives: %v %v", err, bad)
	}
	set := id.NewSet()
	err = archive.UsedBlobs(e.ctx, e.r, list, func(b id.ID) (bool, error) {
		seen := set.Has(b)
		set.Insert(b)
		return seen, nil
	})
	if err != nil {
		e.t.Fatalf("used blobs: %v", err)
	}
	return set
}

func (e *lcEnv) compact(threshold float64) *repo.CompactResult {
	e.t.Helper()
	e.mix["compact"]++
	res, err := e.r.Compact(e.ctx, repo.CompactOptions{
		Threshold: threshold,
		Used: func(mark func(id.ID) (bool, error)) error {
			list, bad, err := archive.ListArchives(e.ctx, e.r)
			if err != nil {
				return err
			}
			if len(bad) != 0 {
				return fmt.Errorf("bad archives: %v", bad)
			}
			return archive.UsedBlobs(e.ctx, e.r, list, mark)
		},
	})
	if err != nil {
		e.t.Fatalf("compact (threshold %v): %v", threshold, err)
	}
	var usedBytes uint64
	for b := range e.used() {
		loc, ok, err := e.r.Lookup(b)
		if err != nil || !ok {
			e.t.Fatalf("after compact: used blob %s not in the index (%v)", b.Short(), err)
		}
		usedBytes += uint64(loc.Length)
	}
	st, err := e.r.Stats(e.ctx)
	e.must(err)
	if res.BytesUsed != usedBytes {
		e.t.Errorf("compact reports %d bytes used, the archives use %d", res.BytesUsed, usedBytes)
	}
	if st.StoredBytes != res.BytesUsed+res.BytesUnusedLeft {
		e.t.Errorf("after compact: %d bytes stored, want used %d + unused left %d", st.StoredBytes, res.BytesUsed, res.BytesUnusedLeft)
	}
	// Every pack kept as it was has at most threshold of its bytes unused.
	if float64(res.BytesUnusedLeft) > threshold*float64(st.StoredBytes) {
		e.t.Errorf("compact with threshold %v left %d of %d bytes unused", threshold, res.BytesUnusedLeft, st.StoredBytes)
	}
	return res
}

func (e *lcEnv) reopen(freshCache bool) {
	e.t.Helper()
	e.mix["reopen"]++
	e.must(e.r.Close())
	if freshCache {
		e.mix["fresh cache"]++
		e.must(os.RemoveAll(e.cacheDir))
	}
	be, err := local.Open(e.repoDir)
	e.must(err)
	if e.r, err = repo.Open(e.ctx, be, e.repoOptions()); err != nil {
		e.t.Fatalf("reopen: %v", err)
	}
}

// chunksOf cuts content as Create does, independently of it.
func (e *lcEnv) chunksOf(data []byte) []lcChunk {
	h := id.Hash(data)
	if c, ok := e.chunks[h]; ok {
		return c
	}
	cfg := e.r.Config()
	ch := chunker.New(bytes.NewReader(data), cfg.Polynomial, cfg.Chunker)
	var out []lcChunk
	var buf []byte
	for {
		c, err := ch.Next(buf)
		if err != nil {
			break
		}
		out = append(out, lcChunk{id: e.r.BlobID(c), size: len(c)})
		buf = c
	}
	e.chunks[h] = out
	return out
}

// verify checks the repository against the model; exact means that the
// last compaction repacked everything, so the index holds nothing unused.
func (e *lcEnv) verify(exact bool) {
	e.t.Helper()
	t := e.t
	e.verifies++
	list, bad, err := archive.ListArchives(e.ctx, e.r)
	if err != nil || len(bad) != 0 {
		t.Fatalf("list archives: %v %v", err, bad)
	}
	got := map[string]id.ID{}
	for _, a := range list {
		got[a.Record.Name] = a.ID
	}
	want := map[string]id.ID{}
	for n, a := range e.live {
		want[n] = a.id
	}
	if !maps.Equal(got, want) {
		t.Fatalf("archives %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	used := e.used()
	wantData := map[id.ID]int{} // every data blob of every live archive
	var sumOriginal, sumModel uint64
	for _, a := range list {
		m := e.live[a.Record.Name]
		var size, nChunks, compressed uint64
		for _, data := range m.files {
			size += uint64(len(data))
			for _, c := range e.chunksOf(data) {
				nChunks++
				wantData[c.id] = c.size
				loc, ok, err := e.r.Lookup(c.id)
				if err != nil || !ok || loc.Type != id.DataBlob {
					t.Fatalf("archive %s: chunk %s not in the index as data (%v, %v)", m.name, c.id.Short(), ok, err)
				}
				compressed += uint64(loc.Length)
				if !used.Has(c.id) {
					t.Errorf("archive %s: chunk %s not marked used", m.name, c.id.Short())
				}
			}
		}
		st := a.Record.Stats
		if st.OriginalSize != size || st.NFiles != uint64(len(m.files)) || st.NChunks != nChunks || st.CompressedSize != compressed {
			t.Errorf("archive %s: stats %+v, want original size %d, %d files, %d chunks, compressed size %d",
				m.name, st, size, len(m.files), nChunks, compressed)
		}
		sumOriginal += st.OriginalSize
		sumModel += size
		e.extractAndCompare(a, m)
	}
	if sumOriginal != sumModel {
		t.Errorf("archives' original sizes add up to %d, their content to %d", sumOriginal, sumModel)
	}
	var wantRaw uint64
	for _, n := range wantData {
		wantRaw += uint64(n)
	}
	usedData := 0
	for b := range used {
		loc, ok, err := e.r.Lookup(b)
		if err != nil || !ok {
			t.Fatalf("used blob %s not in the index (%v)", b.Short(), err)
		}
		if loc.Type == id.DataBlob {
			usedData++
			if _, ok := wantData[b]; !ok {
				t.Errorf("data blob %s is used but is no chunk of any live archive's content", b.Short())
			}
		}
	}
	if usedData != len(wantData) {
		t.Errorf("archives use %d data blobs, their content has %d distinct chunks", usedData, len(wantData))
	}
	st, err := e.r.Stats(e.ctx)
	e.must(err)
	if st.Archives != len(e.live) {
		t.Errorf("stats count %d archives, want %d", st.Archives, len(e.live))
	}
	if exact {
		e.fullVerifies++
		if st.Blobs != len(used) || st.DataBlobs != len(wantData) || st.DataRaw != wantRaw {
			t.Errorf("after a full compact: %d blobs (%d data, %d raw bytes), want %d (%d data, %d raw bytes)",
				st.Blobs, st.DataBlobs, st.DataRaw, len(used), len(wantData), wantRaw)
		}
	} else if st.Blobs < len(used) || st.DataBlobs < len(wantData) || st.DataRaw < wantRaw {
		t.Errorf("index has %d blobs (%d data, %d raw bytes), fewer than the %d used (%d data, %d raw bytes)",
			st.Blobs, st.DataBlobs, st.DataRaw, len(used), len(wantData), wantRaw)
	}
}

// extractAndCompare extracts one archive and compares its regular files
// with the model, byte for byte.
func (e *lcEnv) extractAndCompare(a archive.Entry, m *lcArchive) {
	t := e.t
	t.Helper()
	e.totalExtracted++
	defer os.RemoveAll(e.scratch)
	st, err := archive.Extract(e.ctx, e.r, a.Record, archive.ExtractOptions{
		Destination: e.scratch,
		Warn:        func(p []byte, err error) { t.Errorf("extract %s: %s: %v", m.name, p, err) },
	})
	if err != nil {
		t.Fatalf("extract %s: %v", m.name, err)
	}
	if st.Damaged+st.Failed+st.Refused+st.Unreadable != 0 {
		t.Errorf("extract %s: stats %+v", m.name, st)
	}
	root := filepath.Join(e.scratch, e.src)
	got := map[string][]byte{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is a %v, not a regular file", rel, d.Type())
		}
		got[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatalf("extract %s: %v", m.name, err)
	}
	var diffs []string
	for p, data := range m.files {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+p)
		case !bytes.Equal(g, data):
			diffs = append(diffs, fmt.Sprintf("%s: %d bytes, want %d, different content", p, len(g), len(data)))
		}
	}
	for p := range got {
		if _, ok := m.files[p]; !ok {
			diffs = append(diffs, "unexpected "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("archive %s extracts differently from its source: %v", m.name, diffs)
	}
}
