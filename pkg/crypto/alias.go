package crypto

import (
	"slices"
	"unsafe"
)

// anyOverlap reports whether x and y share any element of memory. It is the
// same test as the standard library's crypto/internal/alias.AnyOverlap; it
// lets Seal and Open accept overlapping buffers instead of panicking inside
// crypto/cipher.
func anyOverlap(x, y []byte) bool {
	return len(x) > 0 && len(y) > 0 &&
		uintptr(unsafe.Pointer(&x[0])) <= uintptr(unsafe.Pointer(&y[len(y)-1])) &&
		uintptr(unsafe.Pointer(&y[0])) <= uintptr(unsafe.Pointer(&x[len(x)-1]))
}

// sameStart reports whether x and y are non-empty and start at the same
// address (an exact overlap, which crypto/cipher allows).
func sameStart(x, y []byte) bool {
	return len(x) > 0 && len(y) > 0 && &x[0] == &y[0]
}

// sliceForAppend extends in by n bytes, reusing its spare capacity when it
// suffices, and returns the whole slice and the n-byte tail.
func sliceForAppend(in []byte, n int) (whole, tail []byte) {
	whole = slices.Grow(in, n)[:len(in)+n]
	return whole, whole[len(in):]
}
