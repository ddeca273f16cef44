package archive

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// Extent lists in ContentParts are summed without an overflow check (the
// inline Content check has one), so a list whose sizes wrap around passes
// as matching n.Size.
func TestExtentPartsOverflow(t *testing.T) {
	cs := archivetest.New()
	ctx := context.Background()
	a, _, _ := cs.SaveBlob(ctx, id.DataBlob, []byte("AAAA"))
	b, _, _ := cs.SaveBlob(ctx, id.DataBlob, []byte("BBBB"))
	data, err := EncodeExtentList([]Extent{DataExtent(a, 4), HoleExtent(math.MaxUint64 - 3), DataExtent(b, 4)})
	if err != nil {
		t.Fatal(err)
	}
	part, _, _ := cs.SaveBlob(ctx, id.TreeBlob, data)
	n := &Node{Name: []byte("f"), Type: TypeFile, Size: 4, ContentParts: [][]byte{part[:]}}
	if _, err := Extents(ctx, cs, n); !errors.Is(err, ErrMalformed) {
		t.Errorf("Extents of a wrapping list: err = %v, want ErrMalformed", err)
	}
}
