package archive

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// pathNode is a directory of the archive's upper levels, built from the
// paths to back up: the root, or a directory on the way to a path (as
// "var" and "lib" are on the way to "/var/lib/pg"). Such a directory is
// stored with its metadata but only the planned entries below it.
type pathNode struct {
	name     string // archive name ("" for the root)
	apath    string // archive path
	fsDir    string // the directory on disk whose metadata is stored
	walk     string // a path to walk here (as given), if this is one
	children map[string]*pathNode
	stdin    bool // the root holds the standard input file
}

// plannedPath is one path to back up.
type plannedPath struct {
	given string // as the caller gave it
	abs   string // absolute and cleaned, for finding overlaps
	arch  string // archive path ("" for the root)
	isAbs bool
}

// planPaths turns the paths to back up into the tree of the archive's upper
// levels, and returns the paths as the record lists them (cleaned, and "-"
// for standard input). A path inside another one is dropped (it is backed
// up with it); two paths that would be stored under the same archive name
// fail with ErrBadPath.
func planPaths(paths []string, stdin bool, stdinName string) (*pathNode, [][]byte, error) {
	root := &pathNode{children: map[string]*pathNode{}, stdin: stdin}
	var recorded [][]byte
	var plan []plannedPath
	for _, p := range paths {
		if p == "" {
			return nil, nil, fmt.Errorf("%w: empty path", ErrBadPath)
		}
		pp := plannedPath{given: p, isAbs: filepath.IsAbs(p)}
		if pp.isAbs {
			pp.abs = filepath.Clean(p)
			pp.arch = strings.TrimPrefix(pp.abs, "/")
		} else {
			c, err := cleanRel(p)
			if err != nil {
				return nil, nil, err
			}
			pp.arch = c
			if c == "." {
				pp.arch = ""
			}
			abs, err := filepath.Abs(c)
			if err != nil {
				return nil, nil, fmt.Errorf("path %q: %w", p, err)
			}
			pp.abs = abs
		}
		recorded = append(recorded, []byte(filepath.Clean(p)))
		plan = append(plan, pp)
	}
	if stdin {
		recorded = append(recorded, []byte("-"))
	}
	// Drop paths inside other paths (and repeats).
	slices.SortStableFunc(plan, func(a, b plannedPath) int { return strings.Compare(a.abs, b.abs) })
	var kept []plannedPath
	for _, pp := range plan {
		if len(kept) > 0 && isWithin(pp.abs, kept[len(kept)-1].abs) {
			continue
		}
		kept = append(kept, pp)
	}
	for _, pp := range kept {
		if err := root.insert(pp); err != nil {
			return nil, nil, err
		}
	}
	if stdin {
		if strings.ContainsRune(stdinName, '/') || stdinName == "." || stdinName == ".." || strings.ContainsRune(stdinName, 0) {
			return nil, nil, fmt.Errorf("%w: stdin name %q must be a plain file name", ErrBadPath, stdinName)
		}
		// (A walked root is checked against the name when it is read.)
		if c, ok := root.children[stdinName]; ok {
			return nil, nil, fmt.Errorf("%w: standard input and %q would both be stored as %q", ErrBadPath, c.describe(), stdinName)
		}
	}
	return root, recorded, nil
}

// within reports whether path p is dir or inside it.
func isWithin(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// insert adds a path to walk below n (the root).
func (n *pathNode) insert(pp plannedPath) error {
	if pp.arch == "" {
		if len(n.children) > 0 || n.walk != "" {
			return fmt.Errorf("%w: %q would be stored as the archive's root, which other paths use too", ErrBadPath, pp.given)
		}
		n.walk = pp.given
		return nil
	}
	if n.walk != "" {
		return fmt.Errorf("%w: %q and %q overlap in the archive", ErrBadPath, n.walk, pp.given)
	}
	parts := strings.Split(pp.arch, "/")
	cur := n
	fsDir := ""
	if pp.isAbs {
		fsDir = "/"
	}
	for i, part := range parts {
		fsDir = joinFS(fsDir, part)
		child, ok := cur.children[part]
		last := i == len(parts)-1
		switch {
		case ok && (last || child.walk != ""):
			return fmt.Errorf("%w: %q and %q would both be stored as %q", ErrBadPath, pp.given, child.describe(), child.apath)
		case !ok:
			child = &pathNode{name: part, apath: joinFS(cur.apath, part), fsDir: fsDir, children: map[string]*pathNode{}}
			cur.children[part] = child
		}
		if last {
			child.walk = pp.given
		}
		cur = child
	}
	return nil
}

// describe names what occupies n, for error messages.
func (n *pathNode) describe() string {
	if n.walk != "" {
		return n.walk
	}
	return n.fsDir
}

// sortedChildren returns n's children by name.
func (n *pathNode) sortedChildren() []*pathNode {
	out := make([]*pathNode, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *pathNode) int { return strings.Compare(a.name, b.name) })
	return out
}
