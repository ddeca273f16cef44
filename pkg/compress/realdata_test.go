package compress

import (
	"sync"
	"testing"

	"github.com/gobak/gobak/internal/realdata"
)

var realData struct {
	once sync.Once
	data []byte
}

// loadRealData returns up to 64 MiB of real files from /usr/lib and
// /usr/share, at most 1 MiB from each, interleaved (binaries, text,
// images, compressed files), the same on every call. It skips the
// benchmark if too little is found.
func loadRealData(b *testing.B) []byte {
	b.Helper()
	realData.once.Do(func() { realData.data, _ = realdata.Mixed(64<<20, 1<<20) })
	if len(realData.data) < 8<<20 {
		b.Skipf("only %d bytes of sample data under /usr/lib and /usr/share", len(realData.data))
	}
	return realData.data
}
