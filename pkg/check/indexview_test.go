package check

import (
	"testing"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

func TestIndexConflicts(t *testing.T) {
	t.Parallel()
	b := id.Hash([]byte("blob"))
	packA, packB := id.Hash([]byte("A")), id.Hash([]byte("B"))
	f1, f2 := id.Hash([]byte("f1")), id.Hash([]byte("f2"))
	good := indexBlob{ID: b, Type: id.DataBlob, Offset: 0, Length: 50, RawLength: 30}
	tests := []struct {
		name  string
		adds  []struct{ file, pack id.ID }
		blobs []indexBlob
		want  int // conflicts
	}{
		{"same entry in two index files", adds(f1, packA, f2, packA), []indexBlob{good, good}, 0},
		{"copy in another pack", adds(f1, packA, f2, packB), []indexBlob{good, {ID: b, Type: id.DataBlob, Offset: 100, Length: 50, RawLength: 30}}, 0},
		{"moved within the pack", adds(f1, packA, f2, packA), []indexBlob{good, {ID: b, Type: id.DataBlob, Offset: 8, Length: 50, RawLength: 30}}, 1},
		{"other raw length elsewhere", adds(f1, packA, f2, packB), []indexBlob{good, {ID: b, Type: id.DataBlob, Offset: 0, Length: 50, RawLength: 31}}, 1},
		{"other type elsewhere", adds(f1, packA, f2, packB), []indexBlob{good, {ID: b, Type: id.TreeBlob, Offset: 0, Length: 50, RawLength: 30}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probs []Problem
			c := &checker{report: func(p Problem) { probs = append(probs, p) }}
			v := &view{blobs: map[id.ID][]index.Location{}, packs: map[id.ID]map[id.ID]index.Location{}, packFile: map[id.ID]id.ID{}}
			for i, a := range tt.adds {
				c.addPack(v, a.file, a.pack, []indexBlob{tt.blobs[i]})
			}
			if got := len(find(probs, KindIndexConflict)); got != tt.want || len(probs) != got {
				t.Errorf("%d conflicts (%d problems), want %d: %v", got, len(probs), tt.want, probs)
			}
			for _, p := range probs {
				if p.Severity != Damage || p.Blob != b {
					t.Errorf("problem %s", p)
				}
			}
		})
	}
}

func adds(fp ...id.ID) []struct{ file, pack id.ID } {
	var out []struct{ file, pack id.ID }
	for i := 0; i+1 < len(fp); i += 2 {
		out = append(out, struct{ file, pack id.ID }{fp[i], fp[i+1]})
	}
	return out
}
