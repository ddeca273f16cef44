package archive

import (
	"context"
	"fmt"

	"github.com/gobak/gobak/pkg/id"
)

// UsedBlobs calls mark for every blob reachable from the archives in list:
// each root tree, every subtree and tree part, every extent-list blob
// (Node.ContentParts) and every data blob. mark records a blob and reports
// whether it was recorded before; a tree or extent list already seen is
// not loaded again, so the work is linear in the number of distinct trees,
// however many archives share them. The mark set belongs to the caller.
//
// Any error ends the walk and is returned: a tree or extent list that
// cannot be loaded or decoded (wrapping the store's error or
// ErrMalformed), or an error from mark. A caller that deletes what is not
// marked must treat every error as "reachability unknown" and delete
// nothing. mark is called from the calling goroutine only.
func UsedBlobs(ctx context.Context, cs ChunkStore, list []Entry, mark func(id.ID) (seen bool, err error)) error {
	u := &usedWalker{ctx: ctx, cs: cs, mark: mark}
	for _, e := range list {
		if err := u.archive(e.Record.TreeID()); err != nil {
			return fmt.Errorf("archive %q (%s): %w", e.Record.Name, e.ID.Short(), err)
		}
	}
	return nil
}

// usedWalker walks trees depth-first with an explicit stack, so that a
// deep (or crafted) hierarchy cannot exhaust the goroutine stack.
type usedWalker struct {
	ctx   context.Context
	cs    ChunkStore
	mark  func(id.ID) (bool, error)
	stack []id.ID // trees marked but not yet loaded
}

// push marks a tree blob and stacks it if it was not seen.
func (u *usedWalker) push(t id.ID) error {
	seen, err := u.mark(t)
	if err != nil {
		return err
	}
	if !seen {
		u.stack = append(u.stack, t)
	}
	return nil
}

func (u *usedWalker) archive(root id.ID) error {
	if err := u.push(root); err != nil {
		return err
	}
	for len(u.stack) > 0 {
		if err := u.ctx.Err(); err != nil {
			return err
		}
		t := u.stack[len(u.stack)-1]
		u.stack = u.stack[:len(u.stack)-1]
		tree, err := u.load(t)
		if err != nil {
			return err
		}
		// The parts of a split tree are pushed like subtrees: each holds
		// whole nodes, and one seen before was walked before.
		for _, p := range tree.Parts {
			if len(p) != id.Size {
				return fmt.Errorf("tree %s: %w: part id of %d bytes", t.Short(), ErrMalformed, len(p))
			}
			if err := u.push(id.ID(p)); err != nil {
				return err
			}
		}
		for i := range tree.Nodes {
			if err := u.node(&tree.Nodes[i]); err != nil {
				return fmt.Errorf("tree %s: %w", t.Short(), err)
			}
		}
	}
	return nil
}

func (u *usedWalker) load(t id.ID) (*Tree, error) {
	data, err := u.cs.LoadBlob(u.ctx, t, nil)
	if err != nil {
		return nil, fmt.Errorf("load tree %s: %w", t.Short(), err)
	}
	tree, err := DecodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", t.Short(), err)
	}
	return tree, nil
}

// node marks the blobs one node references.
func (u *usedWalker) node(n *Node) error {
	switch n.Type {
	case TypeDir:
		return u.push(n.SubtreeID())
	case TypeFile:
	default:
		return nil
	}
	for _, e := range n.Content {
		if err := u.extent(e); err != nil {
			return fmt.Errorf("file %q: %w", n.Name, err)
		}
	}
	for _, p := range n.ContentParts {
		if len(p) != id.Size {
			return fmt.Errorf("file %q: %w: extent list id of %d bytes", n.Name, ErrMalformed, len(p))
		}
		pid := id.ID(p)
		seen, err := u.mark(pid)
		if err != nil {
			return fmt.Errorf("file %q: %w", n.Name, err)
		}
		if seen {
			continue
		}
		data, err := u.cs.LoadBlob(u.ctx, pid, nil)
		if err != nil {
			return fmt.Errorf("file %q: load extent list %s: %w", n.Name, pid.Short(), err)
		}
		ex, err := DecodeExtentList(data)
		if err != nil {
			return fmt.Errorf("file %q: extent list %s: %w", n.Name, pid.Short(), err)
		}
		for _, e := range ex {
			if err := u.extent(e); err != nil {
				return fmt.Errorf("file %q: %w", n.Name, err)
			}
		}
	}
	return nil
}

func (u *usedWalker) extent(e Extent) error {
	if e.IsHole() {
		return nil
	}
	if len(e.ID) != id.Size {
		return fmt.Errorf("%w: extent id of %d bytes", ErrMalformed, len(e.ID))
	}
	_, err := u.mark(id.ID(e.ID))
	return err
}
