package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gobak/gobak/pkg/id"
)

// ErrLostListing is reported by Extract for a directory whose listing a
// repair found lost, in whole or in part: what was lost is not restored.
var ErrLostListing = errors.New("the directory's listing was lost in whole or in part (see check --repair); what it named is not restored")

// Lost is one entry of an archive that a repair found damaged: a file with
// byte ranges whose data is gone (now holes, listed in Node.Damaged), or a
// directory whose listing is gone in whole or in part.
type Lost struct {
	// Path is the entry's path in the archive, "/"-separated.
	Path string
	// Dir is true for a directory whose tree (or a part of it) was lost;
	// Partial says that the nodes of its other parts were kept.
	Dir, Partial bool
	// Bytes is how much of a file's content was lost (0 for Dir).
	Bytes uint64
}

// Repairer rewrites archives so that they reference only blobs that
// exist: file data that is lost becomes holes listed in Node.Damaged
// (extracted as zeros, with a warning), and directories whose tree is lost
// keep what can still be read of it and are marked damaged. Trees are
// rewritten bottom-up, and each tree is rewritten once however many
// archives share it. A Repairer is not safe for concurrent use.
type Repairer struct {
	ctx context.Context
	cs  ChunkStore
	// present reports whether blob b exists with plaintext size rawLen.
	present    func(b id.ID, rawLen uint64) (bool, error)
	isLoss     func(error) bool
	maxTree    int
	perList    int
	done       map[id.ID]*treeFix
	unreadable id.Set
	dryRun     bool
}

// treeFix is the outcome of repairing one tree.
type treeFix struct {
	id   id.ID  // the tree to use instead (the same ID if unchanged)
	lost []Lost // paths relative to the tree
	// gone says the tree itself, or a part of it, was lost.
	gone bool
}

// NewRepairer returns a Repairer that stores new trees and extent lists
// through cs (as tree blobs of at most maxTree bytes, normally the
// chunker's maximum) and asks present whether a data blob exists with the
// given size. present returns an error only when it cannot tell (the
// error ends the repair); a blob of another size counts as lost.
//
// A tree or extent list that loads but does not decode counts as lost; a
// load error counts as lost only if the function set with SetLossCheck
// says so (by default none does): any other load error ends the repair, so
// that a failed read never passes for lost data.
func NewRepairer(ctx context.Context, cs ChunkStore, maxTree int, present func(b id.ID, rawLen uint64) (bool, error)) *Repairer {
	return &Repairer{ctx: ctx, cs: cs, present: present, isLoss: func(error) bool { return false }, maxTree: maxTree,
		perList: min(maxExtentsInline, max(1, maxTree/extentBytes)), done: map[id.ID]*treeFix{}, unreadable: id.NewSet()}
}

// SetLossCheck sets the function that tells whether an error of
// ChunkStore.LoadBlob means the blob is lost or damaged for good (for a
// repository: not found, or failing authentication).
func (p *Repairer) SetLossCheck(isLoss func(error) bool) { p.isLoss = isLoss }

// SetDryRun makes the Repairer store nothing: new trees and extent lists
// get their IDs but are not saved. A dry run finds what is lost (Repair's
// lost list, Unreadable) without writing.
func (p *Repairer) SetDryRun(dry bool) { p.dryRun = dry }

// Unreadable returns the tree blobs (trees, tree parts, extent lists)
// found lost or damaged so far: a caller that keeps an index should drop
// those still indexed, so that later backups store them again instead of
// deduplicating against them.
func (p *Repairer) Unreadable() id.Set { return p.unreadable }

// Repair returns the root tree rec should have instead of its own, and
// what was lost under it (paths relative to the root). changed is false
// when nothing is lost, in which case the tree is rec's own. Errors are
// only those of the context, of present, of loads that are not a loss,
// and of saving blobs.
func (p *Repairer) Repair(rec *Record) (tree id.ID, lost []Lost, changed bool, err error) {
	fix, err := p.tree(rec.TreeID())
	if err != nil {
		return id.ID{}, nil, false, err
	}
	return fix.id, fix.lost, fix.id != rec.TreeID(), nil
}

// load loads blob b. ok is false if it is lost (recorded as unreadable);
// err is set for other failures.
func (p *Repairer) load(b id.ID) (data []byte, ok bool, err error) {
	data, err = p.cs.LoadBlob(p.ctx, b, nil)
	switch {
	case err == nil:
		return data, true, nil
	case p.ctx.Err() != nil:
		return nil, false, p.ctx.Err()
	case p.isLoss(err):
		p.unreadable.Insert(b)
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("repair: %w", err)
}

// loadNodes loads the nodes of tree t, part by part; partial is true if a
// part is lost, whole if the tree itself is.
func (p *Repairer) loadNodes(t id.ID) (nodes []Node, partial, whole bool, err error) {
	data, ok, err := p.load(t)
	if err != nil || !ok {
		return nil, false, err == nil, err
	}
	tr, err := DecodeTree(data)
	if errors.Is(err, ErrNewerFormat) {
		return nil, false, false, fmt.Errorf("repair: tree %s: %w", t.Short(), err)
	}
	if err != nil {
		p.unreadable.Insert(t)
		return nil, false, true, nil
	}
	if len(tr.Parts) == 0 {
		return tr.Nodes, false, false, nil
	}
	for _, raw := range tr.Parts {
		var pid id.ID
		copy(pid[:], raw)
		data, ok, err := p.load(pid)
		if err != nil {
			return nil, false, false, err
		}
		var part *Tree
		if ok {
			part, err = DecodeTree(data)
			if errors.Is(err, ErrNewerFormat) {
				return nil, false, false, fmt.Errorf("repair: tree part %s: %w", pid.Short(), err)
			}
			if err != nil || len(part.Parts) != 0 {
				p.unreadable.Insert(pid)
				ok = false
			}
		}
		if !ok {
			partial = true
			continue
		}
		nodes = append(nodes, part.Nodes...)
	}
	// Parts hold runs of consecutive names; keep the first of any name
	// repeated by a damaged index.
	slices.SortStableFunc(nodes, func(a, b Node) int { return bytes.Compare(a.Name, b.Name) })
	nodes = slices.CompactFunc(nodes, func(a, b Node) bool { return bytes.Equal(a.Name, b.Name) })
	return nodes, partial, false, nil
}

// tree repairs the tree t and the trees below it.
func (p *Repairer) tree(t id.ID) (*treeFix, error) {
	if f, ok := p.done[t]; ok {
		return f, nil
	}
	nodes, partial, whole, err := p.loadNodes(t)
	if err != nil {
		return nil, err
	}
	if whole {
		empty, err := SplitTree(nil, p.maxTree, p.saveTree)
		if err != nil {
			return nil, fmt.Errorf("repair: save empty tree: %w", err)
		}
		f := &treeFix{id: empty, lost: []Lost{{Dir: true}}, gone: true}
		p.done[t] = f
		return f, nil
	}
	f := &treeFix{id: t, gone: partial}
	changed := partial
	if partial {
		f.lost = append(f.lost, Lost{Dir: true, Partial: true})
	}
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
	if p.dryRun {
		return p.cs.BlobID(data), nil
	}
	b, _, err := p.cs.SaveBlob(p.ctx, id.TreeBlob, data)
	return b, err
}
