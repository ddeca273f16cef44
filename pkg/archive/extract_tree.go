package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/gobak/gobak/pkg/id"
)

// run extracts the tree into the destination: this goroutine walks the
// archive and creates directories and special files, o.Workers goroutines
// write file content.
func (x *extractor) run(ctx context.Context, tree id.ID) (ExtractStats, error) {
	if err := os.MkdirAll(x.o.Destination, 0o777); err != nil {
		return ExtractStats{}, fmt.Errorf("extract: destination: %w", err)
	}
	root, err := os.OpenRoot(x.o.Destination)
	if err != nil {
		return ExtractStats{}, fmt.Errorf("extract: destination: %w", err)
	}
	defer root.Close()
	x.root = root
	rootDir, err := root.Open(".")
	if err != nil {
		return ExtractStats{}, fmt.Errorf("extract: destination: %w", err)
	}
	x.track(rootDir)
	top := &xDir{f: rootDir, fd: int(rootDir.Fd())}
	top.pending.Store(1)

	g, gctx := errgroup.WithContext(ctx)
	x.jobs = make(chan *xSegment, 4*x.o.Workers)
	for range x.o.Workers {
		g.Go(func() error { return x.worker(gctx) })
	}
	walkErr := x.walk(gctx, tree, top)
	close(x.jobs)
	workErr := g.Wait()
	if walkErr == nil && workErr == nil {
		top.release(x) // everything is complete: closes the root directory
	}
	x.closeAll()
	x.mu.Lock()
	stats := x.stats
	x.mu.Unlock()
	switch {
	case walkErr != nil:
		if ctx.Err() != nil {
			return stats, fmt.Errorf("extract: %w", context.Cause(ctx))
		}
		return stats, fmt.Errorf("extract: %w", walkErr)
	case workErr != nil:
		return stats, fmt.Errorf("extract: %w", workErr)
	}
	return stats, nil
}

// dryRun walks the selected entries, calling List and counting them.
func (x *extractor) dryRun(ctx context.Context, tree id.ID) error {
	if err := x.walk(ctx, tree, &xDir{}); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	return nil
}

// xFrame is a directory being walked: the xDir its entries go into, and
// whether that xDir belongs to it (and is released after its content).
type xFrame struct {
	dir *xDir
	own bool
}

// walk visits the archive, restoring each selected entry into its
// directory.
func (x *extractor) walk(ctx context.Context, tree id.ID, top *xDir) error {
	stack := []xFrame{{dir: top}}
	w := &treeWalker{ctx: ctx, cs: x.cs, ancestors: map[id.ID]bool{}}
	w.treeErr = func(p []byte, err error) error {
		x.warn(p, err, &x.stats.Unreadable)
		return nil
	}
	pre := func(p []byte, n *Node) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		parent := stack[len(stack)-1].dir
		f, err := x.entry(ctx, parent, p, n)
		if err != nil {
			return err
		}
		if n.Type == TypeDir {
			if f.dir == nil {
				return SkipDir
			}
			stack = append(stack, f)
		}
		return nil
	}
	post := func(p []byte, n *Node) error {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.own {
			f.dir.release(x)
		}
		return nil
	}
	return w.walk(tree, nil, pre, post)
}

// entry restores the node n at archive path p into parent. For a
// directory it returns the frame its content goes into (dir nil: skip the
// content). It returns an error only to stop the whole extraction.
func (x *extractor) entry(ctx context.Context, parent *xDir, p []byte, n *Node) (xFrame, error) {
	sel, descend := x.sel.Match(p)
	for i, sp := range x.sel.paths {
		if !x.found[i] && bytes.Equal(p, sp) {
			x.found[i] = true
		}
	}
	if (sel || descend) && x.o.Exclude != nil {
		if excluded, recurse := x.o.Exclude.Excluded(string(p)); excluded {
			sel, descend = false, descend && recurse
		}
	}
	if !sel {
		if n.Type == TypeDir && descend {
			// Walked through for what is selected below it; created only
			// if something is restored into it.
			return x.implicitDir(parent, p, n), nil
		}
		return xFrame{}, nil
	}
	if !safeName(n.Name) {
		x.warn(p, fmt.Errorf("%w: %q", ErrUnsafePath, n.Name), &x.stats.Refused)
		return xFrame{}, nil
	}
	dest, stripped := x.destPath(p)
	if stripped {
		if n.Type == TypeDir {
			return xFrame{dir: parent}, nil // its content goes where it would have
		}
		return xFrame{}, nil
	}
	if x.restored != nil {
		if prev, ok := x.restored[dest]; ok && (prev != TypeDir || n.Type != TypeDir) {
			x.warn(p, fmt.Errorf("%w: %s %q is already restored there as a %s", ErrPathConflict, n.Type, dest, prev), &x.stats.Refused)
			return xFrame{}, nil
		}
		x.restored[dest] = n.Type
	}
	x.list(p)
	if x.o.DryRun {
		x.countDry(n)
		if n.Type == TypeDir {
			return xFrame{dir: parent}, nil
		}
		return xFrame{}, nil
	}
	if err := parent.ensure(x); err != nil {
		counter := &x.stats.Failed
		if errors.Is(err, ErrPathConflict) {
			counter = &x.stats.Refused
		}
		x.warn(p, err, counter)
		return xFrame{}, nil
	}
	name := string(n.Name)
	switch n.Type {
	case TypeDir:
		d, err := x.makeDir(parent, name, dest, 0o700)
		if err != nil {
			x.warn(p, err, &x.stats.Failed)
			return xFrame{}, nil
		}
		d.path, d.node = p, n
		x.count(&x.stats.Dirs, 1)
		if len(n.Damaged) > 0 {
			x.warn(p, ErrLostListing, &x.stats.Damaged)
		}
		return xFrame{dir: d, own: true}, nil
	case TypeFile:
		return xFrame{}, x.file(ctx, parent, name, dest, p, n)
	case TypeSymlink, TypeFIFO, TypeCharDev, TypeBlockDev:
		x.special(parent, name, p, n)
	default:
		x.warn(p, fmt.Errorf("%w: unknown node type %s", ErrUnsafePath, n.Type), &x.stats.Refused)
	}
	return xFrame{}, nil
}

// implicitDir returns the frame for a directory that is not restored
// itself but walked for what is selected below it.
func (x *extractor) implicitDir(parent *xDir, p []byte, n *Node) xFrame {
	if !safeName(n.Name) {
		x.warn(p, fmt.Errorf("%w: %q", ErrUnsafePath, n.Name), &x.stats.Refused)
		return xFrame{}
	}
	dest, stripped := x.destPath(p)
	if stripped || x.o.DryRun {
		return xFrame{dir: parent}
	}
	d := &xDir{parent: parent, name: string(n.Name), dest: dest, path: p, implicit: true}
	return xFrame{dir: d, own: true}
}

// destPath maps an archive path to the destination-relative path, after
// StripComponents; stripped is true if nothing of it remains.
func (x *extractor) destPath(p []byte) (dest string, stripped bool) {
	for range x.o.StripComponents {
		i := bytes.IndexByte(p, '/')
		if i < 0 {
			return "", true
		}
		p = p[i+1:]
	}
	return string(p), false
}

// countDry counts an entry a dry run would restore.
func (x *extractor) countDry(n *Node) {
	switch n.Type {
	case TypeDir:
		x.stats.Dirs++
	case TypeFile:
		x.stats.Files++
		x.stats.Bytes += n.Size
	case TypeSymlink:
		x.stats.Symlinks++
	default:
		x.stats.Specials++
	}
}

// safeName reports whether a node name is one harmless path component.
// DecodeTree already guarantees it; Extract checks again because its
// safety must not depend on how the node was obtained.
func safeName(name []byte) bool {
	s := string(name)
	return s != "" && s != "." && s != ".." && bytes.IndexByte(name, '/') < 0 && bytes.IndexByte(name, 0) < 0
}
