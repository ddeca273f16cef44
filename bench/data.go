package bench

import "github.com/gobak/gobak/internal/realdata"

// DefaultRoots are the directories mixed data is read from.
var DefaultRoots = realdata.DefaultRoots

// MixedData returns up to size bytes of real files from roots (default
// /usr/lib and /usr/share), whole files interleaved between the roots;
// see realdata.Mixed.
func MixedData(size int, roots ...string) ([]byte, error) {
	return realdata.Mixed(size, 0, roots...)
}
