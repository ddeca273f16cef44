package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/id"
)

func TestCreateManyExtents(t *testing.T) {
	// Tiny chunks (about 320 bytes) make an 8 MiB file have more than
	// maxExtentsInline extents.
	dir := t.TempDir()
	data := pseudoRandom(8<<20, 11)
	writeTree(t, dir, map[string]string{"huge": string(data), "small": "s"})
	s := archivetest.New()
	o := baseOptions("many", dir)
	o.Chunker = chunker.Params{Min: 64, Avg: 256, Max: 1 << 20}
	first := runCreate(t, s, o)
	n := archived(t, s, first.rec.TreeID())[rel(dir)+"/huge"]
	if len(n.Content) != 0 || len(n.ContentParts) < 2 {
		t.Fatalf("huge file: %d inline extents, %d parts", len(n.Content), len(n.ContentParts))
	}
	list, err := s.LoadBlob(context.Background(), id.ID(n.ContentParts[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := DecodeExtentList(list)
	if err != nil || len(ex) != maxExtentsInline {
		t.Errorf("first extent list: %d extents, %v; want %d", len(ex), err, maxExtentsInline)
	}
	if len(list) > 1<<20 {
		t.Errorf("extent list blob of %d bytes", len(list))
	}
	all, err := Extents(context.Background(), s, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= maxExtentsInline || uint64(len(all)) != first.rec.Stats.NChunks-1 {
		t.Errorf("%d extents, %d chunks", len(all), first.rec.Stats.NChunks)
	}
	if !bytes.Equal(content(t, s, n), data) {
		t.Errorf("content differs")
	}

	// The parent's extent lists are reused as they are.
	o.Name = "again"
	o.Parent = parentOf(t, s, o)
	second := runCreate(t, s, o)
	m := archived(t, s, second.rec.TreeID())[rel(dir)+"/huge"]
	if second.rec.Stats.ReadBytes != 0 || second.rec.Stats.NChunks != first.rec.Stats.NChunks ||
		second.rec.Stats.CompressedSize != first.rec.Stats.CompressedSize || len(m.ContentParts) != len(n.ContentParts) {
		t.Errorf("reuse: first %+v, second %+v", first.rec.Stats, second.rec.Stats)
	}
}

// slowStore delays every SaveBlob, so readers outrun savers.
type slowStore struct {
	*archivetest.Store
	delay time.Duration
}

func (s *slowStore) SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error) {
	time.Sleep(s.delay)
	return s.Store.SaveBlob(ctx, t, data)
}

func TestCreateBoundedMemory(t *testing.T) {
	// Big files, half data (a repeating random block, so the store
	// stays small) and half hole, read by savers slower than the readers:
	// the chunk buffers in use never exceed the pool, and a file 8 times
	// bigger does not allocate more.
	small, big := int64(32<<20), int64(256<<20)
	if raceEnabled || testing.Short() {
		small, big = 16<<20, 64<<20
	}
	allocSmall, _ := backUpBigFile(t, small)
	allocBig, peak := backUpBigFile(t, big)
	if want := int64(chunkBufs(2)); peak != want {
		t.Errorf("peak chunk buffers in use = %d, want exactly the pool size %d", peak, want)
	}
	if allocBig > allocSmall+8<<20 {
		t.Errorf("a %d MiB file allocated %d MiB, a %d MiB one %d MiB", big>>20, allocBig>>20, small>>20, allocSmall>>20)
	}
	t.Logf("allocated %d KiB for %d MiB, %d KiB for %d MiB", allocSmall>>10, small>>20, allocBig>>10, big>>20)
}

// backUpBigFile backs up a file of the given size with 2 workers and
// returns the bytes allocated and the peak number of chunk buffers in use.
func backUpBigFile(t *testing.T, size int64) (alloc uint64, peak int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	block := pseudoRandom(3<<20, 5)
	for off := int64(0); off < size/2; off += int64(len(block)) {
		if _, err := f.Write(block[:min(int64(len(block)), size/2-off)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	delay := 20 * time.Millisecond // far slower than reading a chunk
	if raceEnabled {
		delay = 60 * time.Millisecond
	}
	s := &slowStore{Store: archivetest.New(), delay: delay}
	o := baseOptions("big", path)
	o.Chunker = chunker.DefaultParams()
	o.Workers = 2
	var p atomic.Int64
	o.hooks = &createHooks{peakBufs: &p}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec, _, err := Create(context.Background(), s, s, o)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if p.Load() > int64(chunkBufs(o.Workers)) {
		t.Errorf("%d chunk buffers in use, pool has %d", p.Load(), chunkBufs(o.Workers))
	}
	if rec.Stats.OriginalSize != uint64(size) || rec.Stats.ReadBytes < uint64(size/2) || rec.Stats.ReadBytes > uint64(size/2)+(1<<20) {
		t.Errorf("stats %+v", rec.Stats)
	}
	return after.TotalAlloc - before.TotalAlloc, p.Load()
}

func TestCreateManySmallFiles(t *testing.T) {
	// Many small files in many directories, with a single worker and a
	// slow store: everything arrives, in order, with its own content.
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 300 {
		files[filepath.Join(string(rune('a'+i%5)), string(rune('a'+i%7)), "f"+string(rune('A'+i%26))+string(rune('a'+i/26)))] = string(pseudoRandom(i*37%5000, uint64(i)))
	}
	writeTree(t, dir, files)
	for _, workers := range []int{1, 4} {
		s := &slowStore{Store: archivetest.New(), delay: 10 * time.Microsecond}
		o := baseOptions("small", dir)
		o.Workers = workers
		rec, _, err := Create(context.Background(), s, s, o)
		if err != nil {
			t.Fatal(err)
		}
		got := archived(t, s.Store, rec.TreeID())
		for p, want := range files {
			n := got[rel(dir)+"/"+filepath.ToSlash(p)]
			if n == nil || string(content(t, s.Store, n)) != want {
				t.Fatalf("workers %d: %s missing or wrong", workers, p)
			}
		}
		if rec.Stats.NFiles != uint64(len(files)) {
			t.Errorf("workers %d: %d files", workers, rec.Stats.NFiles)
		}
	}
}

func TestCreateProgress(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 50 {
		files[filepath.Join("d", string(rune('a'+i%26))+string(rune('a'+i/26)))] = string(pseudoRandom(20000, uint64(i)))
	}
	writeTree(t, dir, files)
	s := &slowStore{Store: archivetest.New(), delay: 200 * time.Microsecond}
	o := baseOptions("p", dir)
	o.ProgressInterval = time.Millisecond
	var calls []Progress
	var busy atomic.Bool
	o.Progress = func(p Progress) {
		if !busy.CompareAndSwap(false, true) {
			t.Error("concurrent progress calls")
		}
		calls = append(calls, p)
		busy.Store(false)
	}
	o.List = func(Status, string) {
		if !busy.CompareAndSwap(false, true) {
			t.Error("list call concurrent with another callback")
		}
		busy.Store(false)
	}
	rec, _, err := Create(context.Background(), s, s, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 {
		t.Fatalf("%d progress calls", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].ReadBytes < calls[i-1].ReadBytes || calls[i].Files < calls[i-1].Files {
			t.Errorf("progress went backwards: %+v then %+v", calls[i-1], calls[i])
		}
	}
	last := calls[len(calls)-1]
	if last.Files != rec.Stats.NFiles || last.ReadBytes != rec.Stats.ReadBytes || last.WrittenBytes != rec.Stats.ReadBytes || last.Path == "" {
		t.Errorf("last progress %+v, stats %+v", last, rec.Stats)
	}
}
