package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gobak/gobak/pkg/id"
)

// ErrLostListing is reported by Extract for a directory whose listing a
// repair found lost: it is restored empty.
var ErrLostListing = errors.New("the directory's listing was lost (see check --repair); restored empty")

// Lost is one entry of an archive that a repair found damaged: a file with
// byte ranges whose data is gone (now holes, listed in Node.Damaged), or a
// directory whose listing is gone (now empty).
type Lost struct {
	// Path is the entry's path in the archive, "/"-separated.
	Path string
	// Dir is true for a directory whose tree was lost.
	Dir bool
	// Bytes is how much of a file's content was lost (0 for Dir).
	Bytes uint64
}

// Repairer rewrites archives so that they reference only blobs that
// exist: file data that is lost becomes holes listed in Node.Damaged
// (extracted as zeros, with a warning), and directories whose tree is lost
// become empty. Trees are rewritten bottom-up, and each tree is rewritten
// once however many archives share it. A Repairer is not safe for
// concurrent use.
type Repairer struct {
	ctx context.Context
	cs  ChunkStore
	// present reports whether blob b exists with plaintext size rawLen
	// (rawLen is 0 when unknown, for trees and extent lists).
	present func(b id.ID, rawLen uint64) (bool, error)
	maxTree int
	perList int
	done    map[id.ID]*treeFix
}

// treeFix is the outcome of repairing one tree.
type treeFix struct {
	id   id.ID  // the tree to use instead (the same ID if unchanged)
	lost []Lost // paths relative to the tree
	gone bool   // the tree itself was lost (id is an empty tree)
}

// NewRepairer returns a Repairer that stores new trees and extent lists
// through cs (as tree blobs of at most maxTree bytes, normally the
// chunker's maximum) and asks present whether a data blob exists with the
// given size. present returns an error only when it cannot tell (the
// error ends the repair); a blob of another size counts as lost.
func NewRepairer(ctx context.Context, cs ChunkStore, maxTree int, present func(b id.ID, rawLen uint64) (bool, error)) *Repairer {
	return &Repairer{ctx: ctx, cs: cs, present: present, maxTree: maxTree,
		perList: min(maxExtentsInline, max(1, maxTree/extentBytes)), done: map[id.ID]*treeFix{}}
}

// Repair returns the root tree rec should have instead of its own, and
// what was lost under it (paths relative to the root). changed is false
// when nothing is lost, in which case the tree is rec's own. A tree that
// cannot be loaded or decoded counts as lost. Errors are only those of
// the context, of present, and of saving blobs.
func (p *Repairer) Repair(rec *Record) (tree id.ID, lost []Lost, changed bool, err error) {
	fix, err := p.tree(rec.TreeID())
	if err != nil {
		return id.ID{}, nil, false, err
	}
	return fix.id, fix.lost, fix.id != rec.TreeID(), nil
}

// tree repairs the tree t and the trees below it.
func (p *Repairer) tree(t id.ID) (*treeFix, error) {
	if f, ok := p.done[t]; ok {
		return f, nil
	}
	nodes, err := LoadTree(p.ctx, p.cs, t)
	if err != nil {
		if err := p.ctx.Err(); err != nil {
			return nil, err
		}
		empty, err := SplitTree(nil, p.maxTree, p.saveTree)
		if err != nil {
			return nil, fmt.Errorf("repair: save empty tree: %w", err)
		}
		f := &treeFix{id: empty, lost: []Lost{{Dir: true}}, gone: true}
		p.done[t] = f
		return f, nil
	}
	f := &treeFix{id: t}
	changed := false
	for i := range nodes {
		n := &nodes[i]
		name := string(n.Name)
		switch {
		case n.Type == TypeDir && len(n.Subtree) > 0:
			sub, err := p.tree(n.SubtreeID())
			if err != nil {
				return nil, err
			}
			if sub.id != n.SubtreeID() {
				n.SetSubtree(sub.id)
				changed = true
			}
			if sub.gone {
				n.Damaged = []uint64{0, 0}
			}
			for _, l := range sub.lost {
				l.Path = joinPath(name, l.Path)
				f.lost = append(f.lost, l)
			}
		case n.Type == TypeFile:
			bytes, err := p.file(n)
			if err != nil {
				return nil, err
			}
			if bytes > 0 {
				changed = true
				f.lost = append(f.lost, Lost{Path: name, Bytes: bytes})
			}
		}
	}
	if changed {
		if f.id, err = SplitTree(nodes, p.maxTree, p.saveTree); err != nil {
			return nil, fmt.Errorf("repair: save tree: %w", err)
		}
	}
	p.done[t] = f
	return f, nil
}

func joinPath(dir, rel string) string {
	if rel == "" {
		return dir
	}
	return dir + "/" + rel
}

// file replaces the lost extents of a file node by holes, records them in
// n.Damaged, and returns how many bytes were lost.
func (p *Repairer) file(n *Node) (uint64, error) {
	ex, err := Extents(p.ctx, p.cs, n)
	if err != nil {
		if err := p.ctx.Err(); err != nil {
			return 0, err
		}
		// The extent list is lost: so is the whole content.
		n.ContentParts, n.Content = nil, nil
		if n.Size > 0 {
			n.Content = []Extent{HoleExtent(n.Size)}
		}
		n.Damaged = []uint64{0, n.Size}
		return max(n.Size, 1), nil
	}
	var lost, off uint64
	var ranges []uint64
	out := slices.Clone(ex)
	for i, e := range ex {
		if !e.IsHole() {
			ok, err := p.present(e.BlobID(), e.Size)
			if err != nil {
				return 0, err
			}
			if !ok {
				out[i] = HoleExtent(e.Size)
				lost += e.Size
				if k := len(ranges); k > 0 && ranges[k-1] == off {
					ranges[k-1] = off + e.Size
				} else {
					ranges = append(ranges, off, off+e.Size)
				}
			}
		}
		off += e.Size
	}
	if lost == 0 {
		return 0, nil
	}
	n.Damaged = mergeRanges(append(slices.Clone(n.Damaged), ranges...))
	n.Content, n.ContentParts = nil, nil
	if len(out) <= p.perList {
		n.Content = out
		return lost, nil
	}
	for i := 0; i < len(out); i += p.perList {
		data, err := EncodeExtentList(out[i:min(i+p.perList, len(out))])
		if err != nil {
			return 0, fmt.Errorf("repair: %q: %w", n.Name, err)
		}
		b, err := p.saveTree(data)
		if err != nil {
			return 0, fmt.Errorf("repair: %q: save extent list: %w", n.Name, err)
		}
		n.ContentParts = append(n.ContentParts, append([]byte(nil), b[:]...))
	}
	return lost, nil
}

// DamagedRanges renders Node.Damaged as "bytes 0-4095, 8192-12287" (at
// most 10 ranges, then a count of the others).
func DamagedRanges(r []uint64) string {
	var b strings.Builder
	b.WriteString("bytes ")
	for i := 0; i+1 < len(r); i += 2 {
		if i == 20 {
			fmt.Fprintf(&b, " and %d more ranges", (len(r)-i)/2)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if r[i+1] > r[i] {
			fmt.Fprintf(&b, "%d-%d", r[i], r[i+1]-1)
		} else {
			fmt.Fprintf(&b, "%d-", r[i])
		}
	}
	return b.String()
}

// mergeRanges sorts [start, end) pairs and merges those that touch.
func mergeRanges(r []uint64) []uint64 {
	type span struct{ a, b uint64 }
	s := make([]span, 0, len(r)/2)
	for i := 0; i+1 < len(r); i += 2 {
		s = append(s, span{r[i], r[i+1]})
	}
	slices.SortFunc(s, func(x, y span) int {
		switch {
		case x.a < y.a:
			return -1
		case x.a > y.a:
			return 1
		}
		return 0
	})
	var out []uint64
	for _, v := range s {
		if k := len(out); k > 0 && v.a <= out[k-1] {
			out[k-1] = max(out[k-1], v.b)
			continue
		}
		out = append(out, v.a, v.b)
	}
	return out
}

func (p *Repairer) saveTree(data []byte) (id.ID, error) {
	b, _, err := p.cs.SaveBlob(p.ctx, id.TreeBlob, data)
	return b, err
}
