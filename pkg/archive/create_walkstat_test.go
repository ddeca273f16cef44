package archive

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// batchStore adds the batch operations of *repo.Repo to the in-memory
// store, so the batch paths of Create and Extract run in these tests.
type batchStore struct {
	*archivetest.Store
	lookups, loads atomic.Int64 // batch calls
}

func (s *batchStore) LookupMany(blobs []id.ID, locs []index.Location, found []bool) error {
	s.lookups.Add(1)
	for i, b := range blobs {
		var err error
		if locs[i], found[i], err = s.Lookup(b); err != nil {
			return err
		}
	}
	return nil
}

func (s *batchStore) LoadBlobs(ctx context.Context, bids []id.ID, fn func(int, []byte, error) error) error {
	s.loads.Add(1)
	for i := len(bids) - 1; i >= 0; i-- { // any order is allowed
		data, err := s.LoadBlob(ctx, bids[i], nil)
		if err := fn(i, data, err); err != nil {
			return err
		}
	}
	return nil
}

func TestParentAlign(t *testing.T) {
	d := parentDir{{Name: []byte("b")}, {Name: []byte("d")}, {Name: []byte("e")}}
	tests := []struct {
		names []string
		want  []string // "" for no parent node
	}{
		{nil, nil},
		{[]string{"a"}, []string{""}},
		{[]string{"a", "b", "c", "d", "e", "f"}, []string{"", "b", "", "d", "e", ""}},
		{[]string{"e"}, []string{"e"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.names), func(t *testing.T) {
			got := d.align(tt.names)
			for i, n := range got {
				name := ""
				if n != nil {
					name = string(n.Name)
				}
				if name != tt.want[i] {
					t.Errorf("align[%d] = %q, want %q", i, name, tt.want[i])
				}
			}
			for i, nm := range tt.names {
				if (d.lookup([]byte(nm)) == nil) != (got[i] == nil) {
					t.Errorf("align and lookup disagree on %q", nm)
				}
			}
		})
	}
}

// TestCreateXattrsOfUnchangedFiles: the walk does not list the xattrs of
// regular files; an unchanged file must still keep them (from the parent),
// and a file whose xattrs changed must be read again and get the new ones.
func TestCreateXattrsOfUnchangedFiles(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for i := range 3 * parallelStatMin { // enough for the parallel stat
				files[fmt.Sprintf("f%02d", i)] = fmt.Sprintf("content %d", i)
			}
			writeTree(t, dir, files)
			if err := unix.Setxattr(filepath.Join(dir, "f01"), "user.gobak", []byte("v1"), 0); err != nil {
				t.Skipf("no user xattrs here: %v", err)
			}
			if err := unix.Setxattr(filepath.Join(dir, "f02"), "user.gobak", []byte("keep"), 0); err != nil {
				t.Fatal(err)
			}
			s := &batchStore{Store: archivetest.New()}
			var cs interface {
				ChunkStore
				ArchiveStore
			} = s.Store
			if batch {
				cs = s
			}
			create := func(name string) (*createResult, int64) {
				t.Helper()
				o := baseOptions(name, dir)
				o.Parent = parentOf(t, s.Store, o)
				var opens atomic.Int64
				o.hooks = countOpens(&opens)
				o.Time = o.Time.Add(2 * racyWindow) // keep the files of this test out of the racy window
				rec, aid, err := Create(context.Background(), cs, cs, o)
				if err != nil {
					t.Fatal(err)
				}
				return &createResult{rec: rec, id: aid}, opens.Load()
			}
			xattrs := func(r *createResult, name string) string {
				n := archived(t, s.Store, r.rec.TreeID())[rel(dir)+"/"+name]
				if n == nil {
					t.Fatalf("%s not in the archive", name)
				}
				var out []string
				for _, x := range n.Xattrs {
					out = append(out, string(x.Name)+"="+string(x.Value))
				}
				return fmt.Sprint(out)
			}
			first, _ := create("one")
			second, opens := create("two")
			if opens != 0 {
				t.Errorf("unchanged backup opened %d files", opens)
			}
			if batch && s.lookups.Load() == 0 {
				t.Error("the batch lookup was not used")
			}
			for _, f := range []string{"f01", "f02", "f03"} {
				if a, b := xattrs(first, f), xattrs(second, f); a != b {
					t.Errorf("%s: xattrs %s, then %s in the unchanged backup", f, a, b)
				}
			}
			if got := xattrs(second, "f01"); got != "[user.gobak=v1]" {
				t.Errorf("f01 xattrs = %s", got)
			}
			if err := unix.Setxattr(filepath.Join(dir, "f01"), "user.gobak", []byte("v2"), 0); err != nil {
				t.Fatal(err)
			}
			third, opens := create("three")
			if opens != 1 {
				t.Errorf("after an xattr change, %d files were read, want 1", opens)
			}
			if got := xattrs(third, "f01"); got != "[user.gobak=v2]" {
				t.Errorf("f01 xattrs after the change = %s", got)
			}
			if got := xattrs(third, "f02"); got != "[user.gobak=keep]" {
				t.Errorf("f02 xattrs = %s", got)
			}
		})
	}
}

// TestCreateParallelStatKeepsOrderAndExclusions: a large directory (stat'ed
// in parallel) with excluded entries is stored complete, sorted, and
// without the excluded ones; a file that vanishes is only a warning.
func TestCreateParallelStatKeepsOrderAndExclusions(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	var want []string
	for i := range 200 {
		name := fmt.Sprintf("n%03d", i)
		files[name] = name
		if i%10 != 3 {
			want = append(want, name)
		}
	}
	files["sub/x"] = "x"
	want = append(want, "sub")
	slices.Sort(want)
	writeTree(t, dir, files)
	s := archivetest.New()
	o := baseOptions("one", dir)
	o.Exclude = suffixExcluder("3")
	r := runCreate(t, s, o)
	nodes, err := LoadTree(context.Background(), s, archived(t, s, r.rec.TreeID())[rel(dir)].SubtreeID())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, string(n.Name))
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries = %v\nwant %v", got, want)
	}
}

// suffixExcluder excludes the paths ending in its string.
type suffixExcluder string

func (e suffixExcluder) Excluded(p string) (bool, bool) {
	return len(p) >= len(e) && p[len(p)-len(e):] == string(e), false
}

func TestStatDirVanished(t *testing.T) {
	dir := t.TempDir()
	names := make([]string, 2*parallelStatMin)
	for i := range names {
		names[i] = fmt.Sprintf("f%02d", i)
		if i%2 == 0 {
			if err := os.WriteFile(filepath.Join(dir, names[i]), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := newCreator(context.Background(), archivetest.New(), &CreateOptions{Workers: 1})
	excl := make([]exclusion, len(names))
	excl[2] = exclusion{excluded: true}
	res := c.statDir(dir, names, excl)
	for i, r := range res {
		switch {
		case i == 2:
			if r.m != nil || r.err != nil {
				t.Errorf("%s: excluded but stat'ed", names[i])
			}
		case i%2 == 0:
			if r.err != nil || r.m == nil || r.m.Xattrs != nil {
				t.Errorf("%s: %+v", names[i], r)
			}
		default:
			if !os.IsNotExist(r.err) {
				t.Errorf("%s: err = %v, want not-exist", names[i], r.err)
			}
		}
	}
}
