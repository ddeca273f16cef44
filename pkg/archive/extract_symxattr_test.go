package archive

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive/archivetest"
)

func TestSymlinkMetaNotFollowed(t *testing.T) {
	outside, dest := xtSandbox(t)
	target := filepath.Join(outside, "t")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var before unix.Stat_t
	unix.Stat(target, &before)
	cs := archivetest.New()
	tree := xtSave(t, cs, 0, xtLink("l", target).with(func(n *Node) {
		n.UID, n.GID = 1000, 1000
		n.Xattrs = []Xattr{{Name: []byte("trusted.pwn"), Value: []byte("1")}, {Name: []byte("user.pwn"), Value: []byte("1")}}
	}))
	_, st, w := xtExtract(t, cs, xtRecord(tree), ExtractOptions{Destination: dest, NumericIDs: true})
	t.Logf("stats %+v warnings %s", st, w)
	var after unix.Stat_t
	unix.Stat(target, &after)
	if after.Uid != before.Uid || after.Mtim != before.Mtim || after.Mode != before.Mode {
		t.Errorf("target changed")
	}
	for _, x := range []string{"trusted.pwn", "user.pwn"} {
		if _, err := unix.Getxattr(target, x, nil); err == nil {
			t.Errorf("%s set on the symlink's target", x)
		}
	}
}
