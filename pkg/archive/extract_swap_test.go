package archive

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

// swapOnLoad is a ChunkStore whose first LoadBlob runs swap: it stands for
// another local user acting while the extraction writes a file's content.
type swapOnLoad struct {
	*archivetest.Store
	once  sync.Once
	match func(data []byte) bool // the blob whose load triggers swap
	swap  func()
}

func (s *swapOnLoad) LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error) {
	data, err := s.Store.LoadBlob(ctx, b, dst)
	if err == nil && s.match(data) {
		s.once.Do(s.swap)
	}
	return data, err
}

// A directory that already exists in the destination is reused; whoever
// can write to it (its owner: extracting /home into / as root) swaps the
// file being restored for a hard link to a file outside the destination
// after it is created and before its metadata is applied. Apply then
// resolves the name again and chowns/chmods/sets xattrs and times on the
// outside file.
func TestApplyAfterCloseFollowsSwappedName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown)")
	}
	outside, dest := xtSandbox(t)
	secret := filepath.Join(outside, "shadow")
	if err := os.WriteFile(secret, []byte("root:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dest, "home")
	if err := os.MkdirAll(home, 0o777); err != nil { // pre-existing, writable by the attacker
		t.Fatal(err)
	}
	cs := &swapOnLoad{Store: archivetest.New()}
	cs.match = func(data []byte) bool { return string(data) == "bob's file" }
	cs.swap = func() {
		tmp := filepath.Join(home, ".x")
		if err := os.Link(secret, tmp); err != nil {
			t.Error(err)
			return
		}
		if err := os.Rename(tmp, filepath.Join(home, "f")); err != nil {
			t.Error(err)
		}
	}
	tree := xtSave(t, cs.Store, 0, xtDir("home", 0o777,
		xtFile("f", 0o4777, []byte("bob's file")).with(func(n *Node) {
			n.UID, n.GID = 1000, 1000
			n.Xattrs = []Xattr{{Name: []byte("user.pwned"), Value: []byte("1")}}
		})))
	xtExtract(t, cs, xtRecord(tree), ExtractOptions{Destination: dest, NumericIDs: true})

	var st unix.Stat_t
	if err := unix.Stat(secret, &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 0 || st.Mode&0o7777 != 0o600 {
		t.Errorf("file outside the destination changed: owner %d:%d mode %#o (was 0:0 0600)", st.Uid, st.Gid, st.Mode&0o7777)
	}
	if _, err := unix.Getxattr(secret, "user.pwned", nil); err == nil {
		t.Errorf("xattr user.pwned set on a file outside the destination")
	}
}
