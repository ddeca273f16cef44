// Package realdata gathers real files from this machine (/usr/lib,
// /usr/share) as sample data for benchmarks, the same bytes on every call
// on a given machine. It is internal: only gobak's tests and benchmarks
// use it.
package realdata

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// DefaultRoots are the directories sample data is read from.
var DefaultRoots = []string{"/usr/lib", "/usr/share"}

// Mixed returns up to size bytes made by concatenating regular files under
// roots (DefaultRoots if none), walked in lexical order and alternating
// between the roots file by file, so binaries and text are interleaved.
// At most perFile bytes are taken from one file (<= 0: whole files), and
// files larger than 32 MiB are skipped so none dominates. Unreadable
// entries are skipped; if the roots hold less than size bytes, the result
// is shorter.
func Mixed(size, perFile int, roots ...string) ([]byte, error) {
	if len(roots) == 0 {
		roots = DefaultRoots
	}
	lists := make([][]string, len(roots))
	for i, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.Type().IsRegular() {
				lists[i] = append(lists[i], p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(lists[i])
	}
	out := make([]byte, 0, size)
	for j := 0; len(out) < size; j++ {
		progress := false
		for _, l := range lists {
			if j >= len(l) || len(out) >= size {
				continue
			}
			progress = true
			out = appendFile(out, l[j], size, perFile)
		}
		if !progress {
			break
		}
	}
	return out, nil
}

func appendFile(out []byte, path string, size, perFile int) []byte {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > 32<<20 || fi.Size() == 0 {
		return out
	}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	limit := size - len(out)
	if perFile > 0 {
		limit = min(limit, perFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)))
	if err != nil {
		return out
	}
	return append(out, b...)
}
