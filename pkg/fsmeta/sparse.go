package fsmeta

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// NextData finds the first data region of the open regular file f at or
// after offset off, considering only the first size bytes (the size the
// caller recorded, so a file growing meanwhile is read consistently). It
// returns the region as [start, end) with off <= start < end <= size, or
// start == end == size when only a hole remains (or off >= size).
//
// Call it in a loop, continuing from end, to visit every data region in
// order; the gaps between regions are holes that read as zeros:
//
//	for off := int64(0); off < size; {
//		start, end, err := fsmeta.NextData(f, off, size)
//		if err != nil || start == size { ... }
//		// read [start, end)
//		off = end
//	}
//
// It uses lseek with SEEK_DATA and SEEK_HOLE, so the file offset of f
// changes; read with ReadAt. A file system without hole reporting (EINVAL
// or EOPNOTSUPP from lseek) reports the whole remainder [off, size) as data,
// which is always correct, just not sparse. Regions are only as exact as the
// file system's allocation unit (often 4 KiB). Safe for concurrent use on
// the same f only if nothing else relies on f's file offset.
func NextData(f *os.File, off, size int64) (start, end int64, err error) {
	if f == nil {
		return 0, 0, fmt.Errorf("next data: %w", os.ErrInvalid)
	}
	if off < 0 || size < 0 {
		return 0, 0, fmt.Errorf("next data %q: offset %d, size %d: %w", f.Name(), off, size, os.ErrInvalid)
	}
	if off >= size {
		return size, size, nil
	}
	var serr error
	cerr := withFD(f, func(fd int) { start, end, serr = nextData(fd, off, size) })
	if cerr != nil {
		return 0, 0, fmt.Errorf("next data %q: %w", f.Name(), cerr)
	}
	if serr != nil {
		return 0, 0, fmt.Errorf("next data %q at %d: %w", f.Name(), off, serr)
	}
	return start, end, nil
}

func nextData(fd int, off, size int64) (int64, int64, error) {
	start, err := seek(fd, off, unix.SEEK_DATA)
	switch err {
	case nil:
	case unix.ENXIO: // no data at or after off: the rest is a hole (or the file shrank)
		return size, size, nil
	case unix.EINVAL, unix.EOPNOTSUPP:
		return off, size, nil // no hole support
	default:
		return 0, 0, err
	}
	if start >= size {
		return size, size, nil
	}
	if start < off { // never seen, but never move backwards
		start = off
	}
	end, err := seek(fd, start, unix.SEEK_HOLE)
	switch err {
	case nil:
	case unix.ENXIO: // the file was truncated below start meanwhile
		return start, size, nil
	default:
		return 0, 0, err
	}
	if end > size || end <= start {
		end = size
	}
	return start, end, nil
}

func seek(fd int, off int64, whence int) (int64, error) {
	for {
		n, err := unix.Seek(fd, off, whence)
		if err != unix.EINTR {
			return n, err
		}
	}
}
