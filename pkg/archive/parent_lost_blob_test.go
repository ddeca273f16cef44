package archive

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// losingStore forgets some data blobs, as a repository does after a lost
// pack and an index rebuild from the surviving packs: the index no longer
// has them and they cannot be loaded; saving them again restores them.
type losingStore struct {
	*archivetest.Store
	mu   sync.Mutex
	lost map[id.ID]bool
}

func (s *losingStore) isLost(b id.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost[b]
}

func (s *losingStore) Lookup(b id.ID) (index.Location, bool, error) {
	if s.isLost(b) {
		return index.Location{}, false, nil
	}
	return s.Store.Lookup(b)
}

func (s *losingStore) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	if s.isLost(b) {
		return nil, fmt.Errorf("blob %s: pack missing", b.Short())
	}
	return s.Store.LoadBlob(ctx, b, dst)
}

func (s *losingStore) SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error) {
	b, isNew, err := s.Store.SaveBlob(ctx, t, data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.lost[b] {
		delete(s.lost, b)
		isNew = true
	}
	return b, isNew, err
}

// A data blob of an unchanged file is gone from the repository. The next
// backup must not reuse the parent's extent list blindly: it should read
// the file again (and so repair the repository), not fail the whole backup
// (every night, until someone notices) or store a reference to nothing.
func TestParentReuseWithLostBlob(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": string(pseudoRandom(20<<10, 3)), "g": "other"})
	mem := archivetest.New()
	s := &losingStore{Store: mem, lost: map[id.ID]bool{}}
	first := runCreate(t, mem, baseOptions("one", dir))
	f := archived(t, mem, first.rec.TreeID())[rel(filepath.Join(dir, "f"))]
	s.lost[f.Content[0].BlobID()] = true

	o := baseOptions("two", dir)
	o.Parent = parentOf(t, mem, o)
	rec, _, err := Create(context.Background(), s, s, o)
	if err != nil {
		t.Fatalf("second backup failed: %v", err)
	}
	got := archived(t, mem, rec.TreeID())[rel(filepath.Join(dir, "f"))]
	for _, e := range got.Content {
		if _, ok, _ := s.Lookup(e.BlobID()); !e.IsHole() && !ok {
			t.Errorf("new archive references blob %s, which the repository does not have", e.BlobID().Short())
		}
	}
}
