package archive

import (
	"bytes"
	"path"
)

// Selection chooses archive paths the way borg's `extract PATH...` and
// `list ARCHIVE PATH...` do: a path is selected when it equals one of the
// selection's paths or lies below it. The zero Selection (no paths)
// selects everything. A Selection is immutable and safe for concurrent use.
type Selection struct {
	paths [][]byte // cleaned, relative; nil selects everything
}

// NewSelection returns the selection of paths. Each is cleaned lexically
// (leading and repeated slashes, "." components and a trailing slash are
// dropped), so "/etc/", "etc" and "./etc" select the same subtree. A path
// that cleans to nothing ("/" or ".") selects the whole archive.
func NewSelection(paths [][]byte) Selection {
	var s Selection
	for _, p := range paths {
		c := cleanArchivePath(p)
		if len(c) == 0 {
			return Selection{}
		}
		s.paths = append(s.paths, c)
	}
	return s
}

// All reports whether s selects every path.
func (s Selection) All() bool { return len(s.paths) == 0 }

// Match reports whether the archive path p is selected, and whether
// anything below p may be (so a walk must descend into p).
func (s Selection) Match(p []byte) (selected, descend bool) {
	if len(s.paths) == 0 {
		return true, true
	}
	for _, sel := range s.paths {
		switch {
		case bytes.Equal(p, sel), isBelow(p, sel):
			return true, true
		case isBelow(sel, p):
			descend = true
		}
	}
	return false, descend
}

// isBelow reports whether p lies strictly below the directory dir.
func isBelow(p, dir []byte) bool {
	return len(p) > len(dir) && p[len(dir)] == '/' && bytes.HasPrefix(p, dir)
}

// cleanArchivePath turns a user-given path into archive form: relative,
// cleaned, "" for the root.
func cleanArchivePath(p []byte) []byte {
	c := path.Clean("/" + string(p))
	return []byte(c[1:])
}
