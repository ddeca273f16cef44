package bench

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// DefaultRoots are the directories mixed data is read from.
var DefaultRoots = []string{"/usr/lib", "/usr/share"}

// MixedData returns up to size bytes made by concatenating regular files
// found under roots, walked in lexical order, alternating between the roots
// file by file so binaries and text are interleaved. Files larger than
// 32 MiB are skipped so one file cannot dominate. If the roots hold less
// than size bytes, the result is shorter.
func MixedData(size int, roots ...string) ([]byte, error) {
	if len(roots) == 0 {
		roots = DefaultRoots
	}
	lists := make([][]string, len(roots))
	for i, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable parts are skipped
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
			fi, err := os.Stat(l[j])
			if err != nil || fi.Size() > 32<<20 || fi.Size() == 0 {
				continue
			}
			data, err := os.ReadFile(l[j])
			if err != nil {
				continue
			}
			out = append(out, data[:min(len(data), size-len(out))]...)
		}
		if !progress {
			break
		}
	}
	return out, nil
}
