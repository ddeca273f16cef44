package archive

import (
	"archive/tar"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
)

// The first occurrence of a hard-linked inode has a header archive/tar
// refuses (a NUL in its user name): it is left out of the stream, so the
// next occurrence must carry the data, not be a TypeLink to a name the
// stream lacks (GNU tar: "Cannot hard link ... No such file", data lost).
func TestReview5HardlinkFirstHeaderRefused(t *testing.T) {
	cs := archivetest.New()
	hard := func(name, user string) xt {
		return xtFile(name, 0o640, []byte("shared")).with(func(n *Node) {
			n.Nlink, n.Inode, n.Device = 2, 77, 3
			n.User = []byte(user)
		})
	}
	tree := xtSave(t, cs, 0, hard("h1", "a\x00b"), hard("h2", "alice"))
	data, _, w := tarExport(t, cs, tree, ExportTarOptions{})
	hdrs, bodies := tarRead(t, data)
	names := map[string]bool{}
	for _, h := range hdrs {
		names[h.Name] = true
	}
	for i, h := range hdrs {
		if h.Typeflag == tar.TypeLink && !names[h.Linkname] {
			t.Errorf("%s: hard link to %q, which the stream lacks (its data is lost)\nwarnings:\n%s", h.Name, h.Linkname, w)
		}
		if h.Name == "h2" && h.Typeflag == tar.TypeReg && string(bodies[i]) != "shared" {
			t.Errorf("h2: %q", bodies[i])
		}
	}
}
