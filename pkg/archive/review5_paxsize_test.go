package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
)

// A file with more than 1 MiB of extended attributes (40 values of 60 KiB,
// as XFS allows: 64 KiB each) needs a PAX header larger than archive/tar's
// 1 MiB limit: WriteHeader fails with ErrFieldTooLong, an error the
// tar.Writer keeps (unlike the "cannot encode" ErrHeader that writeItem
// expects), so every later entry fails too and ExportTar ends with an
// error: one such file makes the whole export fail (exit 2, no FILE). It
// should be left out (or written without those xattrs) with a warning,
// and the rest exported.
func TestReview5ExportTarHugeXattrs(t *testing.T) {
	cs := archivetest.New()
	var xs []Xattr
	for i := range 40 {
		xs = append(xs, Xattr{Name: []byte(fmt.Sprintf("user.x%02d", i)), Value: bytes.Repeat([]byte{'v'}, 60<<10)})
	}
	tree := xtSave(t, cs, 0,
		xtFile("a", 0o644, []byte("big xattrs")).with(func(n *Node) { n.Xattrs = xs }),
		xtFile("b", 0o644, []byte("after")),
	)
	data, _, w := tarExport(t, cs, tree, ExportTarOptions{})
	tr := tar.NewReader(bytes.NewReader(data))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("archive/tar cannot read the stream after %q: %v (warnings: %q)", names, err, strings.TrimSpace(w.String()))
			return
		}
		names = append(names, h.Name)
	}
	if len(names) != 2 {
		t.Errorf("entries %q", names)
	}
}
