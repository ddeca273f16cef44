package fsmeta

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkLstat measures one Lstat (stat, name lookup from the cache,
// xattr listing) for files with 0 and 4 xattrs, and without the listing.
func BenchmarkLstat(b *testing.B) {
	dir := b.TempDir()
	cases := []struct {
		name   string
		xattrs int
		o      ReadOptions
	}{
		{"xattrs=0", 0, ReadOptions{}},
		{"xattrs=4", 4, ReadOptions{}},
		{"xattrs=4/numeric", 4, ReadOptions{NumericIDs: true}},
		{"NoXattrs", 4, ReadOptions{NoXattrs: true}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			p := filepath.Join(dir, fmt.Sprintf("f%d%v%v", bc.xattrs, bc.o.NumericIDs, bc.o.NoXattrs))
			if err := os.WriteFile(p, []byte("content"), 0o644); err != nil {
				b.Fatal(err)
			}
			for i := range bc.xattrs {
				if err := unix.Setxattr(p, fmt.Sprintf("user.bench%d", i), []byte("some value"), 0); err != nil {
					b.Skipf("cannot set xattrs here: %v", err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				m, err := Lstat(p, bc.o)
				if err != nil {
					b.Fatal(err)
				}
				if !bc.o.NoXattrs && len(m.Xattrs) != bc.xattrs {
					b.Fatalf("got %d xattrs", len(m.Xattrs))
				}
			}
		})
	}
}

// BenchmarkApply measures Apply of owner, mode, one xattr and times.
func BenchmarkApply(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	df, err := os.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer df.Close()
	m := &Meta{Type: Regular, Mode: 0o640, UID: uint32(os.Geteuid()), GID: uint32(os.Getegid()),
		Atime: 1, Mtime: 2, Xattrs: []Xattr{{"user.bench", []byte("v")}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := Apply(df, "f", m, ApplyOptions{NumericIDs: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextData measures walking a 64 MiB file with 64 data regions.
func BenchmarkNextData(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "sparse"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const size = 64 << 20
	if err := f.Truncate(size); err != nil {
		b.Fatal(err)
	}
	for off := int64(0); off < size; off += 1 << 20 {
		if _, err := f.WriteAt(make([]byte, 4096), off); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	for b.Loop() {
		for off := int64(0); off < size; {
			start, end, err := NextData(f, off, size)
			if err != nil {
				b.Fatal(err)
			}
			if start == size {
				break
			}
			off = end
		}
	}
}
