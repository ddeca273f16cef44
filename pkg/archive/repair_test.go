package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

func TestRepairer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxTree int // of the repairer: small values force extent lists and split trees
	}{
		{"inline", 1 << 20},
		{"extent lists", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := archivetest.New()
			big := xtRandom(1, 6*xtChunk+5)
			y := []byte("y stays\n")
			tree := xtSave(t, store, 0,
				xtFile("big", 0o644, big),
				xtDir("dir", 0o755, xtDir("sub", 0o755, xtFile("x", 0o600, []byte("x is lost"))), xtFile("y", 0o644, y)),
			)
			lostChunk := store.BlobID(big[2*xtChunk : 3*xtChunk])
			lastChunk := store.BlobID(big[6*xtChunk:])
			// dir/sub's tree stops decoding.
			nodes, err := LoadTree(ctx, store, tree)
			if err != nil {
				t.Fatal(err)
			}
			dirNodes, err := LoadTree(ctx, store, nodes[1].SubtreeID())
			if err != nil {
				t.Fatal(err)
			}
			store.Corrupt(dirNodes[0].SubtreeID(), []byte("garbage"))
			present := func(b id.ID, size uint64) (bool, error) {
				if b == lostChunk {
					return false, nil
				}
				if b == lastChunk && size != 5 {
					t.Errorf("last chunk asked with size %d", size)
				}
				_, ok, err := store.Lookup(b)
				return ok, err
			}
			rp := NewRepairer(ctx, store, tc.maxTree, present)
			newTree, lost, changed, err := rp.Repair(xtRecord(tree))
			if err != nil || !changed {
				t.Fatalf("Repair: changed %v, %v", changed, err)
			}
			want := []Lost{{Path: "big", Bytes: xtChunk}, {Path: "dir/sub", Dir: true}}
			if !slices.Equal(lost, want) {
				t.Errorf("lost %+v, want %+v", lost, want)
			}
			// Repairing again finds nothing; a second archive of the same
			// tree gets the same new tree.
			again, lost2, changed2, err := NewRepairer(ctx, store, tc.maxTree, present).Repair(xtRecord(newTree))
			if err != nil || changed2 || again != newTree || len(lost2) != 0 {
				t.Errorf("second repair: %v %v %v %v", changed2, again, lost2, err)
			}
			if same, _, _, _ := rp.Repair(xtRecord(tree)); same != newTree {
				t.Errorf("same tree repaired twice differently")
			}

			// Extract: big with zeros where the chunk was, a warning naming
			// the range; dir/sub empty, with a warning; dir/y intact.
			dest, st, w := xtExtract(t, store, xtRecord(newTree), ExtractOptions{Workers: 2})
			got, err := os.ReadFile(filepath.Join(dest, "big"))
			wantBig := slices.Concat(big[:2*xtChunk], make([]byte, xtChunk), big[3*xtChunk:])
			if err != nil || !bytes.Equal(got, wantBig) {
				t.Errorf("big: %d bytes, %v", len(got), err)
			}
			if got, err := os.ReadFile(filepath.Join(dest, "dir", "y")); err != nil || !bytes.Equal(got, y) {
				t.Errorf("dir/y: %q, %v", got, err)
			}
			if ents, err := os.ReadDir(filepath.Join(dest, "dir", "sub")); err != nil || len(ents) != 0 {
				t.Errorf("dir/sub: %v, %v", ents, err)
			}
			text := w.String()
			if st.Damaged != 2 || !strings.Contains(text, "big: file has damaged ranges, restored as zeros: bytes 131072-196607") ||
				!strings.Contains(text, "dir/sub: "+ErrLostListing.Error()) || !errors.Is(errors.Join(w.errs...), ErrLostListing) {
				t.Errorf("stats %+v, warnings:\n%s", st, text)
			}
		})
	}
}

func TestMergeRanges(t *testing.T) {
	for _, tc := range []struct{ in, want []uint64 }{
		{nil, nil},
		{[]uint64{5, 9}, []uint64{5, 9}},
		{[]uint64{10, 20, 0, 5}, []uint64{0, 5, 10, 20}},
		{[]uint64{0, 5, 5, 9}, []uint64{0, 9}},
		{[]uint64{0, 10, 2, 4}, []uint64{0, 10}},
		{[]uint64{3, 8, 0, 4, 20, 30}, []uint64{0, 8, 20, 30}},
	} {
		if got := mergeRanges(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("mergeRanges(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := DamagedRanges([]uint64{0, 10, 20, 21}); got != "bytes 0-9, 20-20" {
		t.Errorf("DamagedRanges = %q", got)
	}
}
