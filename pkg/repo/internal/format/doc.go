// Package format holds the byte-level encodings of a gobak v1 repository's
// files: the config header, the pack trailer, the index file and the lock
// file. It knows nothing of encryption: callers seal and open the payloads.
//
// Every decoder here reads untrusted bytes. Each one validates lengths and
// counts before allocating, returns an error wrapping ErrMalformed on bad
// input, never panics, and has a fuzz target.
package format

import "errors"

// ErrMalformed is wrapped by every decoding error in this package.
var ErrMalformed = errors.New("malformed")
