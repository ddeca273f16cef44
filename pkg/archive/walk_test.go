package archive

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gobak/gobak/pkg/archive/archivetest"
	"github.com/gobak/gobak/pkg/id"
)

func TestWalk(t *testing.T) {
	cs := archivetest.New()
	entries := []xt{
		xtDir("b", 0o755, xtFile("z", 0o644, nil), xtDir("y", 0o755, xtFile("deep", 0o644, nil)), xtFile("x", 0o644, nil)),
		xtFile("a", 0o644, []byte("a")),
		xtDir("c", 0o755),
		xtFile("\xff", 0o644, nil),
	}
	all := []string{"a", "b", "b/x", "b/y", "b/y/deep", "b/z", "c", "\xff"}
	for _, maxTree := range []int{0, 150} { // one blob per directory, or split trees
		tree := xtSave(t, cs, maxTree, entries...)
		tests := []struct {
			name string
			fn   func(p []byte, n *Node) error
			want []string
			err  error
		}{
			{"all", func([]byte, *Node) error { return nil }, all, nil},
			{"skip dir", func(p []byte, _ *Node) error {
				if string(p) == "b/y" {
					return SkipDir
				}
				return nil
			}, []string{"a", "b", "b/x", "b/y", "b/z", "c", "\xff"}, nil},
			{"skip siblings", func(p []byte, _ *Node) error {
				if string(p) == "b/x" {
					return SkipDir
				}
				return nil
			}, []string{"a", "b", "b/x", "c", "\xff"}, nil},
			{"skip all", func(p []byte, _ *Node) error {
				if string(p) == "b/y/deep" {
					return SkipAll
				}
				return nil
			}, []string{"a", "b", "b/x", "b/y", "b/y/deep"}, nil},
			{"error", func(p []byte, _ *Node) error {
				if string(p) == "b/x" {
					return errXTDamaged
				}
				return nil
			}, []string{"a", "b", "b/x"}, errXTDamaged},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var got []string
				err := Walk(context.Background(), cs, tree, func(p []byte, n *Node) error {
					got = append(got, string(p))
					if string(n.Name) != string(p[len(p)-len(n.Name):]) {
						t.Errorf("path %q for node %q", p, n.Name)
					}
					return tc.fn(p, n)
				})
				if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
					t.Errorf("err = %v, want %v", err, tc.err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("visited %q, want %q", got, tc.want)
				}
			})
		}
	}
}

func TestWalkMalformed(t *testing.T) {
	cs := archivetest.New()
	// A tree that names itself as a subdirectory: impossible with real
	// IDs, but a store that does not verify IDs could return one.
	self := xtSave(t, cs, 0, xtFile("f", 0o644, nil))
	loop := xtDir("loop", 0o755).node
	loop.SetSubtree(self)
	data, err := EncodeTree(&Tree{Nodes: []Node{loop}})
	if err != nil {
		t.Fatal(err)
	}
	cs.Corrupt(self, data)
	if err := Walk(context.Background(), cs, self, func([]byte, *Node) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("cycle: err = %v, want ErrMalformed", err)
	}

	missing := id.Hash([]byte("missing"))
	dir := xtDir("gone", 0o755).node
	dir.SetSubtree(missing)
	data, _ = EncodeTree(&Tree{Nodes: []Node{dir}})
	tree, _, _ := cs.SaveBlob(context.Background(), id.TreeBlob, data)
	err = Walk(context.Background(), cs, tree, func([]byte, *Node) error { return nil })
	if !errors.Is(err, archivetest.ErrNotFound) {
		t.Errorf("missing subtree: err = %v", err)
	}
	if err := Walk(context.Background(), cs, missing, func([]byte, *Node) error { return nil }); !errors.Is(err, archivetest.ErrNotFound) {
		t.Errorf("missing root: err = %v", err)
	}
}

func TestSelection(t *testing.T) {
	tests := []struct {
		paths            []string
		p                string
		selected, within bool
	}{
		{nil, "anything", true, true},
		{[]string{"/"}, "x", true, true},
		{[]string{"etc"}, "etc", true, true},
		{[]string{"/etc/"}, "etc/passwd", true, true},
		{[]string{"./etc//x"}, "etc", false, true},
		{[]string{"etc/x"}, "etc/x", true, true},
		{[]string{"etc/x"}, "etc/xy", false, false},
		{[]string{"etc"}, "etcetera", false, false},
		{[]string{"home", "etc/x"}, "etc", false, true},
		{[]string{"home", "etc/x"}, "home/a/b", true, true},
		{[]string{"a\xff"}, "a\xff/b", true, true},
	}
	for _, tc := range tests {
		var ps [][]byte
		for _, p := range tc.paths {
			ps = append(ps, []byte(p))
		}
		sel, within := NewSelection(ps).Match([]byte(tc.p))
		if sel != tc.selected || within != tc.within {
			t.Errorf("%q.Match(%q) = %v, %v; want %v, %v", tc.paths, tc.p, sel, within, tc.selected, tc.within)
		}
	}
}
