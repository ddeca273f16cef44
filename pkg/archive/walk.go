package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/gobak/gobak/pkg/id"
)

// SkipDir and SkipAll are the values a WalkFunc returns to skip a
// directory's content or the rest of the walk. They are io/fs's, so
// fs.SkipDir works too.
var (
	SkipDir = fs.SkipDir
	SkipAll = fs.SkipAll
)

// MaxDepth bounds how deeply trees may nest. Linux paths are at most 4096
// bytes, so no real directory hierarchy comes close; a deeper archive is
// malformed (and would otherwise let a crafted one exhaust the stack).
const MaxDepth = 4096

// WalkFunc is called by Walk for every node. path is the node's path in the
// archive: its names joined with '/', relative, without a leading slash.
// fn may keep path and n; it must not modify them.
type WalkFunc func(path []byte, n *Node) error

// Walk visits every node of the tree tree and its subtrees depth-first,
// each directory's nodes in name order, calling fn for a directory before
// its content. If fn returns SkipDir for a directory, its content is
// skipped (for another node, the node's remaining siblings are skipped);
// SkipAll ends the walk and Walk returns nil. Any other error from fn ends
// the walk and is returned as is. A tree that cannot be loaded or decoded
// ends the walk with an error naming the directory; a tree that contains
// itself, or nesting deeper than MaxDepth, gives an error wrapping
// ErrMalformed. Walk uses cs and calls fn from the calling goroutine only.
func Walk(ctx context.Context, cs ChunkStore, tree id.ID, fn WalkFunc) error {
	w := &treeWalker{ctx: ctx, cs: cs, ancestors: map[id.ID]bool{}}
	err := w.walk(tree, nil, func(p []byte, n *Node) error { return fn(p, n) }, nil)
	if errors.Is(err, SkipAll) {
		return nil
	}
	return err
}

// treeWalker is the walk shared by Walk, Extract and list: it loads trees
// one at a time and detects cycles.
type treeWalker struct {
	ctx       context.Context
	cs        ChunkStore
	ancestors map[id.ID]bool
	depth     int
	// treeErr, if set, is called when a subtree (not the root tree)
	// cannot be loaded or is malformed; if it returns nil, that directory
	// is treated as empty and the walk goes on. Context errors are never
	// passed to it.
	treeErr func(path []byte, err error) error
}

// walk visits the nodes of tree t, whose directory has path prefix. pre is
// called before a directory's content, post (if not nil) after it, only
// for directories pre did not skip. SkipDir from pre skips the node's
// content (and, for a non-directory, the remaining siblings, as in
// io/fs.WalkDir).
func (w *treeWalker) walk(t id.ID, prefix []byte, pre, post func(path []byte, n *Node) error) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	nodes, err := w.load(t, prefix)
	if err != nil {
		if len(prefix) == 0 {
			return fmt.Errorf("root directory: %w", err)
		}
		if w.treeErr == nil || w.ctx.Err() != nil {
			return fmt.Errorf("directory %q: %w", prefix, err)
		}
		return w.treeErr(prefix, err)
	}
	w.ancestors[t] = true
	w.depth++
	defer func() {
		delete(w.ancestors, t)
		w.depth--
	}()
	for i := range nodes {
		n := &nodes[i]
		p := childPath(prefix, n.Name)
		err := pre(p, n)
		if errors.Is(err, SkipDir) {
			if n.Type != TypeDir {
				return nil
			}
			continue
		}
		if err != nil {
			return err
		}
		if n.Type != TypeDir {
			continue
		}
		if err := w.walk(n.SubtreeID(), p, pre, post); err != nil {
			return err
		}
		if post != nil {
			if err := post(p, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// load loads the tree t of the directory at prefix, refusing cycles and
// excessive depth.
func (w *treeWalker) load(t id.ID, prefix []byte) ([]Node, error) {
	if w.ancestors[t] {
		return nil, fmt.Errorf("%w: tree %s contains itself", ErrMalformed, t.Short())
	}
	if w.depth >= MaxDepth {
		return nil, fmt.Errorf("%w: trees nest deeper than %d", ErrMalformed, MaxDepth)
	}
	return LoadTree(w.ctx, w.cs, t)
}

// childPath returns prefix/name in a new slice (the empty prefix is the
// archive's root).
func childPath(prefix, name []byte) []byte {
	if len(prefix) == 0 {
		return append([]byte(nil), name...)
	}
	p := make([]byte, 0, len(prefix)+1+len(name))
	p = append(p, prefix...)
	p = append(p, '/')
	return append(p, name...)
}
