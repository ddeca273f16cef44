package archive

import (
	"errors"
	"fmt"
	"slices"
)

// fileExtents returns a file node's extents as far as they can be read:
// with extent lists (ContentParts), the lists before the first lost one
// are placed from the start of the file and those after the last lost one
// from its end, and what lies between is one hole, returned as the lost
// range [gapStart, gapEnd). ok is false if the lists that were read do not
// fit the file's size (the node is then left alone).
func (p *Repairer) fileExtents(n *Node) (ex []Extent, gapStart, gapEnd uint64, ok bool, err error) {
	if len(n.ContentParts) == 0 {
		return n.Content, 0, 0, true, nil
	}
	parts := make([][]Extent, len(n.ContentParts))
	first, last := -1, -1
	for i, raw := range n.ContentParts {
		var pid [32]byte
		copy(pid[:], raw)
		data, loaded, err := p.load(pid)
		if err != nil {
			return nil, 0, 0, false, err
		}
		if loaded {
			parts[i], err = DecodeExtentList(data)
			if errors.Is(err, ErrNewerFormat) {
				return nil, 0, 0, false, fmt.Errorf("repair: %q: extent list: %w", n.Name, err)
			}
			if err != nil {
				p.unreadable.Insert(pid)
				loaded = false
			}
		}
		if !loaded {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	sum := func(ps [][]Extent) (out []Extent, size uint64, ok bool) {
		for _, part := range ps {
			for _, e := range part {
				if e.Size == 0 || e.Size > n.Size-size {
					return nil, 0, false
				}
				size += e.Size
				out = append(out, e)
			}
		}
		return out, size, true
	}
	if first < 0 {
		ex, size, ok := sum(parts)
		return ex, 0, 0, ok && size == n.Size, nil
	}
	head, hs, ok1 := sum(parts[:first])
	tail, ts, ok2 := sum(parts[last+1:])
	if !ok1 || !ok2 || hs+ts > n.Size {
		// The lists that were read do not fit: everything is lost.
		head, tail, hs, ts = nil, nil, 0, 0
	}
	ex = append(head, HoleExtent(n.Size-hs-ts))
	return append(ex, tail...), hs, n.Size - ts, true, nil
}

// file replaces the lost extents of a file node by holes, records them in
// n.Damaged, and returns how many bytes were lost.
func (p *Repairer) file(n *Node) (uint64, error) {
	ex, gapStart, gapEnd, ok, err := p.fileExtents(n)
	if err != nil || !ok {
		return 0, err
	}
	lost := gapEnd - gapStart
	var ranges []uint64
	if lost > 0 {
		ranges = append(ranges, gapStart, gapEnd)
	}
	changed := len(n.ContentParts) > 0 && gapEnd > gapStart
	var off uint64
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
				ranges = append(ranges, off, off+e.Size)
				changed = true
			}
		}
		off += e.Size
	}
	if !changed {
		return 0, nil
	}
	n.Damaged = mergeRanges(append(slices.Clone(n.Damaged), ranges...))
	n.Content, n.ContentParts = nil, nil
	// Adjacent holes are merged, so a repaired list is never longer.
	out = mergeHoles(out)
	if len(out) <= p.perList {
		n.Content = out
		return max(lost, 1), nil
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
	return max(lost, 1), nil
}

// mergeHoles joins runs of adjacent holes into one.
func mergeHoles(ex []Extent) []Extent {
	out := ex[:0:0]
	for _, e := range ex {
		if k := len(out); k > 0 && e.IsHole() && out[k-1].IsHole() {
			out[k-1].Size += e.Size
			continue
		}
		out = append(out, e)
	}
	return out
}
