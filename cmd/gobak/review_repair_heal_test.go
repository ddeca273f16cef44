package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
)

// reviewHealRepo makes a repository with tiny chunks and tree blobs
// (--chunker-params 64,128,512: at most 10 extents per extent list, trees
// split beyond 512 bytes), so big.bin's content is a list of extent-list
// blobs (ContentParts) and many/ is a split tree.
func reviewHealRepo(t *testing.T) (*repairRepo, map[string]string) {
	t.Helper()
	c := newCLI(t)
	r := &repairRepo{checkRepo: &checkRepo{c: c, repo: c.initRepo("repo", "--chunker-params", "64,128,512")}, src: c.path("src")}
	r.files = map[string]string{
		"big.bin":  string(randomBytes(40<<10, 21)),
		"good.txt": "all is well\n",
	}
	for i := range 30 {
		r.files[fmt.Sprintf("many/f%02d", i)] = fmt.Sprintf("small file %d\n", i)
	}
	writeFiles(t, r.src, r.files)
	res := c.runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::a", ".")
	if res.code != exitOK {
		t.Fatalf("create:\n%s", res)
	}
	return r, r.files
}

// reviewNode returns the node at archive path p of archive "a".
func reviewNode(t *testing.T, r *repairRepo, p string) archive.Node {
	t.Helper()
	ctx := context.Background()
	lr := r.c.with(t).libRepo(r.repo)
	defer lr.Close()
	list, _, err := archive.ListArchives(ctx, lr)
	if err != nil || len(list) == 0 {
		t.Fatal(err)
	}
	var out *archive.Node
	err = archive.Walk(ctx, lr, list[0].Record.TreeID(), func(path []byte, n *archive.Node) error {
		if string(path) == p {
			nn := *n
			out = &nn
		}
		return nil
	})
	if err != nil || out == nil {
		t.Fatalf("no %s: %v", p, err)
	}
	return *out
}

func treeParts(t *testing.T, r *repairRepo, tree id.ID) [][]byte {
	t.Helper()
	lr := r.c.with(t).libRepo(r.repo)
	defer lr.Close()
	data, err := lr.LoadBlob(context.Background(), tree, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := archive.DecodeTree(data)
	if err != nil {
		t.Fatal(err)
	}
	return tr.Parts
}

// A damaged extent-list blob (or split-tree part) found by check without
// --verify-data is reported as a "tree" problem without the damaged
// blob's ID (pkg/check/archives.go fileProblem / mapTree report the file
// or the split tree's index blob), so repair never salvages the pack that
// holds it: the damaged blob stays indexed. The archive is rewritten
// (file zeroed / directory emptied) and check passes, but the next create
// produces the same extent list / part, deduplicates against the damaged
// blob and so does NOT heal: the new archive is broken too.
func TestReviewRepairHealsExtentListsAndTreeParts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		victim func(t *testing.T, r *repairRepo) id.ID
		lost   map[string]bool
	}{
		{"extent list of big.bin", func(t *testing.T, r *repairRepo) id.ID {
			n := reviewNode(t, r, "big.bin")
			if len(n.ContentParts) < 3 {
				t.Fatalf("big.bin has %d content parts", len(n.ContentParts))
			}
			var b id.ID
			copy(b[:], n.ContentParts[1])
			return b
		}, map[string]bool{"big.bin": true}},
		{"part of the split tree of many/", func(t *testing.T, r *repairRepo) id.ID {
			n := reviewNode(t, r, "many")
			parts := treeParts(t, r, n.SubtreeID())
			if len(parts) < 3 {
				t.Fatalf("many/ has %d parts", len(parts))
			}
			var b id.ID
			copy(b[:], parts[1])
			return b
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, files := reviewHealRepo(t)
			lost := tc.lost
			if lost == nil {
				lost = map[string]bool{}
				for p := range files {
					if strings.HasPrefix(p, "many/") {
						lost[p] = true
					}
				}
			}
			victim := tc.victim(t, r)
			p, off, n := r.blobFile(t, victim)
			flipAt(t, p, off+n/2)

			res := r.c.with(t).run(withPass, "check", "--repair", "--yes", r.repo)
			if res.code != exitWarning {
				t.Errorf("check --repair: want exit 1:\n%s", res)
			}
			r.check(t, exitOK)
			r.extractAndCompare(t, "a", lost)

			res = r.c.with(t).runWith(runOpts{dir: r.src, env: map[string]string{"GOBAK_PASSPHRASE": pass}}, "create", r.repo+"::healed", ".")
			if res.code != exitOK {
				t.Fatalf("create after repair:\n%s", res)
			}
			if x := r.extractAndCompare(t, "healed", nil); x.code != exitOK {
				t.Errorf("the create after the repair did not heal (it deduplicated against the damaged blob %s, still indexed):\n%s", victim.Short(), x)
			}
			r.check(t, exitOK, "--verify-data")
		})
	}
}
