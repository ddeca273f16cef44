package archive

import (
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// claimedTree stores a file whose single data extent claims size bytes
// for a blob of 10 bytes (a tree written by a buggy gobak).
func claimedTree(t testing.TB, size uint64) (ChunkStore, id.ID) {
	cs := archivetest.New()
	ctx := context.Background()
	b, _, err := cs.SaveBlob(ctx, id.DataBlob, []byte("ten bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	n := Node{Name: []byte("f"), Type: TypeFile, Mode: 0o644, Size: size, Content: []Extent{DataExtent(b, size)}}
	data, err := EncodeTree(&Tree{Nodes: []Node{n}})
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := cs.SaveBlob(ctx, id.TreeBlob, data)
	if err != nil {
		t.Fatal(err)
	}
	return cs, root
}

// The loader sizes a batch's buffer by the sizes the extents claim, not
// by what the blobs hold: one crafted extent claiming 1 GiB for a 10-byte
// blob makes ExportTar allocate 1 GiB (Extract allocates nothing of the
// kind). Memory must stay bounded whatever the tree claims.
func TestReview5ExportTarClaimedExtentAlloc(t *testing.T) {
	cs, root := claimedTree(t, 1<<30)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := &xtWarnings{}
	_, err := ExportTar(context.Background(), cs, xtRecord(root), io.Discard, ExportTarOptions{Workers: 1, Warn: w.warn})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("ExportTar of one crafted 10-byte blob claiming 1 GiB allocated %d MiB", alloc>>20)
	}
	if !strings.Contains(w.String(), "malformed") {
		t.Errorf("warnings:\n%s", w)
	}
}

// With a claimed size of 1 TiB the allocation kills the process with a
// fatal "out of memory" instead of a warning about a malformed extent.
func TestReview5ExportTarClaimedExtentCrash(t *testing.T) {
	if os.Getenv("REVIEW5_CHILD") == "1" {
		cs, root := claimedTree(t, 1<<40)
		ctx, cancel := context.WithCancel(context.Background())
		_, _ = ExportTar(ctx, cs, xtRecord(root), &cancelAfter{n: 1 << 20, cancel: cancel}, ExportTarOptions{Workers: 1})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReview5ExportTarClaimedExtentCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REVIEW5_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.SplitN(string(out), "\n", 3)
		t.Errorf("ExportTar of a crafted extent claiming 1 TiB: %v: %s", err, strings.Join(lines[:min(2, len(lines))], " | "))
	}
}

// cancelAfter cancels once n bytes were written (the 1 TiB of zeros need
// not be written to show the crash).
type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.n -= len(p)
	if c.n <= 0 {
		c.cancel()
	}
	return len(p), nil
}
