package compress

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

const (
	realDataSize    = 64 << 20 // total bytes of sample data
	realDataPerFile = 1 << 20  // at most this much from one file, for variety
)

var realData struct {
	once sync.Once
	data []byte
}

// loadRealData returns up to 64 MiB of real files from /usr/lib and
// /usr/share, interleaved (binaries, text, images, compressed files), the
// same on every call. It skips the benchmark if too little is found.
func loadRealData(b *testing.B) []byte {
	b.Helper()
	realData.once.Do(func() {
		lib := collectFiles("/usr/lib", realDataSize/2)
		share := collectFiles("/usr/share", realDataSize/2)
		data := make([]byte, 0, realDataSize)
		for i := 0; i < max(len(lib), len(share)); i++ {
			for _, list := range [][][]byte{lib, share} {
				if i < len(list) {
					data = append(data, list[i]...)
				}
			}
		}
		realData.data = data[:min(len(data), realDataSize)]
	})
	if len(realData.data) < 8<<20 {
		b.Skipf("only %d bytes of sample data under /usr/lib and /usr/share", len(realData.data))
	}
	return realData.data
}

// collectFiles reads regular files under root in lexical order, at most
// realDataPerFile bytes each, until total bytes are gathered.
func collectFiles(root string, total int) [][]byte {
	var out [][]byte
	got := 0
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // skip unreadable entries, symlinks, devices
		}
		if got >= total {
			return filepath.SkipAll
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer func() { _ = f.Close() }()
		b, err := io.ReadAll(io.LimitReader(f, int64(min(realDataPerFile, total-got))))
		if err != nil || len(b) == 0 {
			return nil
		}
		out = append(out, b)
		got += len(b)
		return nil
	})
	return out
}
