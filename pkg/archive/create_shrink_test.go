package archive

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// onSave runs fn once, at the first data blob saved.
type onSave struct {
	*archivetest.Store
	once sync.Once
	fn   func()
}

func (s *onSave) SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error) {
	if t == id.DataBlob {
		s.once.Do(s.fn)
	}
	return s.Store.SaveBlob(ctx, t, data)
}

// A sparse file (data, hole, data) is truncated into its hole while its
// first data region is read. The rest is recorded as a hole up to the
// size seen at open: the archive holds a file of the old size whose last
// data region became zeros -- content the file never had. Stored "as
// read" would be the 2 MiB that were there.
func TestShrinkIntoHolePadsWithZeros(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sparse")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(pseudoRandom(1<<20, 1), 0)
	f.WriteAt(pseudoRandom(4096, 2), 4<<20)
	f.Close()
	s := &onSave{Store: archivetest.New(), fn: func() {
		if err := os.Truncate(p, 2<<20); err != nil {
			t.Error(err)
		}
	}}
	o := baseOptions("one", dir)
	o.Workers = 1
	var st Status
	o.List = func(s Status, path string) {
		if path == p {
			st = s
		}
	}
	rec, _, err := Create(context.Background(), s, s, o)
	if err != nil {
		t.Fatal(err)
	}
	n := archived(t, s.Store, rec.TreeID())[rel(p)]
	t.Logf("status %c, recorded size %d, extents %d", st, n.Size, len(n.Content))
	if n.Size > 2<<20 {
		t.Errorf("recorded size %d; the file had 2 MiB when it was read to the end (and never had zeros at 4 MiB)", n.Size)
	}
}
