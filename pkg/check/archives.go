package check

import (
	"fmt"
	"sort"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
)

// affected maps a damaged or missing blob to the archives (by name) and the
// file paths in them that reference it.
type affected map[id.ID]map[string][]string

// add records that path in archive a references blob b.
func (af affected) add(b id.ID, a, path string) {
	m := af[b]
	if m == nil {
		m = map[string][]string{}
		af[b] = m
	}
	if ps := m[a]; len(ps) > 0 && ps[len(ps)-1] == path {
		return
	}
	m[a] = append(m[a], path)
}

// archivePass holds the state of the archives part.
type archivePass struct {
	c  *checker
	st store
	// tainted says, for each tree checked, whether it or a tree below it
	// has a problem: a tree that cannot be read, or a file referencing a
	// blob that is missing, damaged or of the wrong size.
	tainted map[id.ID]bool
	aff     affected
}

// checkArchives checks every archive record (or the one named in Options)
// and every tree and blob reference reachable from them. Each distinct tree
// is read once; only trees found to have problems are walked again, per
// archive, to name the archives and paths affected.
func (c *checker) checkArchives() (affected, error) {
	list, bad, err := archive.ListArchives(c.ctx, c.r)
	if err != nil {
		if c.ctx.Err() != nil {
			return nil, c.ctxErr()
		}
		return nil, fmt.Errorf("check: list archives: %w", err)
	}
	for _, aid := range sortedKeys(bad) {
		c.emit(Problem{Kind: KindArchiveRecord, Archive: aid.String(), Message: bad[aid].Error()})
	}
	if c.o.Archive != "" {
		var keep []archive.Entry
		for _, e := range list {
			if e.Record.Name == c.o.Archive {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			c.emit(Problem{Kind: KindArchiveMissing, Archive: c.o.Archive, Message: "no readable archive has this name"})
		}
		list = keep
	}
	c.mu.Lock()
	c.sum.Archives = len(list)
	c.mu.Unlock()

	ap := &archivePass{c: c, st: store{c: c}, tainted: map[id.ID]bool{}, aff: affected{}}
	for i, e := range list {
		if _, err := ap.scan(e.Record.TreeID(), 0, map[id.ID]bool{}); err != nil {
			return nil, err
		}
		c.progress("archives", i+1, len(list))
	}
	c.mu.Lock()
	c.sum.Trees = len(ap.tainted)
	c.mu.Unlock()
	for i, e := range list {
		if !ap.tainted[e.Record.TreeID()] {
			continue
		}
		if err := ap.mapTree(e.Record.Name, e.Record.TreeID(), nil, 0, map[id.ID]bool{}); err != nil {
			return nil, err
		}
		c.progress("map", i+1, len(list))
	}
	return ap.aff, nil
}

// scan checks tree t and everything below it once, and says whether it
// has a problem.
func (ap *archivePass) scan(t id.ID, depth int, onPath map[id.ID]bool) (bool, error) {
	if v, ok := ap.tainted[t]; ok {
		return v, nil
	}
	if err := ap.c.ctxErr(); err != nil {
		return false, err
	}
	if onPath[t] || depth >= archive.MaxDepth {
		return true, nil
	}
	nodes, err := archive.LoadTree(ap.c.ctx, ap.st, t)
	if err != nil {
		if cerr := ap.c.ctxErr(); cerr != nil {
			return false, cerr
		}
		ap.tainted[t] = true
		return true, nil
	}
	onPath[t] = true
	defer delete(onPath, t)
	bad := len(ap.c.view.blobs[t]) == 0 // read from a pack no index names
	for i := range nodes {
		n := &nodes[i]
		switch n.Type {
		case archive.TypeFile:
			refBad := false
			msg := ap.fileProblem(n, func(b id.ID) {
				if ap.c.isBad(b) {
					refBad = true
				}
			})
			bad = bad || refBad || msg != ""
		case archive.TypeDir:
			sub, err := ap.scan(n.SubtreeID(), depth+1, onPath)
			if err != nil {
				return false, err
			}
			bad = bad || sub
		}
	}
	ap.tainted[t] = bad
	return bad, nil
}

// fileProblem checks a file's extents: that its extent lists can be read
// and that each blob, if indexed, is a data blob of the extent's size. It
// returns a description of the first problem ("" if none), and calls ref
// for every blob referenced.
func (ap *archivePass) fileProblem(n *archive.Node, ref func(id.ID)) string {
	exts, err := archive.Extents(ap.c.ctx, ap.st, n)
	if err != nil {
		return fmt.Sprintf("the file's extent list cannot be read: %v", err)
	}
	msg := ""
	for _, e := range exts {
		if e.IsHole() {
			continue
		}
		b := e.BlobID()
		if ref != nil {
			ref(b)
		}
		locs := ap.c.view.blobs[b]
		if len(locs) == 0 || msg != "" {
			continue
		}
		switch l := locs[0]; {
		case l.Type != id.DataBlob:
			msg = fmt.Sprintf("the file's content references %s, which is indexed as a %s blob", b.Short(), l.Type)
		case uint64(l.RawLength) != e.Size:
			msg = fmt.Sprintf("the file's content references %s as %d bytes, the blob has %d", b.Short(), e.Size, l.RawLength)
		}
	}
	return msg
}

// isBad says whether blob b is missing from the index or damaged.
func (c *checker) isBad(b id.ID) bool {
	if len(c.view.blobs[b]) == 0 {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, bad := c.bad[b]
	return bad
}

// mapTree walks the problematic parts of tree t of archive a (whose
// directory is at path), reporting unreadable trees and inconsistent files
// and recording which paths reference missing or damaged blobs.
func (ap *archivePass) mapTree(a string, t id.ID, path []byte, depth int, onPath map[id.ID]bool) error {
	if err := ap.c.ctxErr(); err != nil {
		return err
	}
	dir := string(path)
	if dir == "" {
		dir = "."
	}
	if onPath[t] || depth >= archive.MaxDepth {
		ap.c.emit(Problem{Kind: KindTree, Blob: t, Archive: a, Paths: []string{dir}, Message: "the directory contains itself, or directories nest too deeply"})
		return nil
	}
	nodes, err := archive.LoadTree(ap.c.ctx, ap.st, t)
	if err != nil {
		if cerr := ap.c.ctxErr(); cerr != nil {
			return cerr
		}
		ap.c.emit(Problem{Kind: KindTree, Blob: t, Archive: a, Paths: []string{dir},
			Message: fmt.Sprintf("the directory's tree cannot be read; its content is lost from this archive: %v", err)})
		return nil
	}
	if len(ap.c.view.blobs[t]) == 0 {
		ap.aff.add(t, a, dir)
	}
	onPath[t] = true
	defer delete(onPath, t)
	for i := range nodes {
		n := &nodes[i]
		p := childPath(path, n.Name)
		switch n.Type {
		case archive.TypeFile:
			msg := ap.fileProblem(n, func(b id.ID) {
				if ap.c.isBad(b) {
					ap.aff.add(b, a, p)
				}
			})
			if msg != "" {
				ap.c.emit(Problem{Kind: KindTree, Archive: a, Paths: []string{p}, Message: msg})
			}
		case archive.TypeDir:
			if !ap.tainted[n.SubtreeID()] {
				continue
			}
			if err := ap.mapTree(a, n.SubtreeID(), []byte(p), depth+1, onPath); err != nil {
				return err
			}
		}
	}
	return nil
}

// childPath joins a directory path and a name.
func childPath(dir []byte, name []byte) string {
	if len(dir) == 0 {
		return string(name)
	}
	return string(dir) + "/" + string(name)
}

// reportBlobs reports every damaged, lost or missing blob, once per
// archive that references it, with the paths affected.
func (c *checker) reportBlobs(aff affected) {
	all := map[id.ID]bool{}
	for b := range c.bad {
		all[b] = true
	}
	for b := range aff {
		all[b] = true
	}
	for _, b := range sortedKeys(all) {
		is, isBad := c.bad[b]
		byArchive := aff[b]
		names := make([]string, 0, len(byArchive))
		for a := range byArchive {
			names = append(names, a)
		}
		sort.Strings(names)
		if !isBad {
			msg := "no index file names this blob, which these paths reference; their content is lost"
			var pack id.ID
			if loc, ok := c.unindexedLoc(b); ok {
				pack = loc.Pack
				msg = "no index file names this blob, which these paths reference; it is in a pack no index names (an index rebuild recovers it)"
			}
			for _, a := range names {
				c.emit(Problem{Kind: KindMissingBlob, Pack: pack, Blob: b, Archive: a, Paths: byArchive[a], Message: msg})
			}
			continue
		}
		msg := fmt.Sprintf("%s blob: %s", is.typ, is.msg)
		if len(names) == 0 {
			if !c.o.RepositoryOnly && is.typ == id.DataBlob {
				msg += " (no archive checked references it)"
			}
			c.emit(Problem{Kind: is.kind, Pack: is.pack, Blob: b, Message: msg})
			continue
		}
		for _, a := range names {
			c.emit(Problem{Kind: is.kind, Pack: is.pack, Blob: b, Archive: a, Paths: byArchive[a], Message: msg})
		}
	}
}
