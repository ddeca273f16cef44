package fsmeta

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// dataRanges collects all data regions of f's first size bytes.
func dataRanges(t *testing.T, f *os.File, size int64) [][2]int64 {
	t.Helper()
	var rs [][2]int64
	for off := int64(0); off < size; {
		start, end, err := NextData(f, off, size)
		if err != nil {
			t.Fatalf("NextData(%d): %v", off, err)
		}
		if start == size {
			if end != size {
				t.Fatalf("NextData(%d) = %d, %d: hole-only result must have end == size", off, start, end)
			}
			break
		}
		if start < off || end <= start || end > size {
			t.Fatalf("NextData(%d) = [%d, %d): out of order", off, start, end)
		}
		rs = append(rs, [2]int64{start, end})
		off = end
	}
	return rs
}

// sparseFile creates a file of size bytes whose data lies at regions and is
// a hole everywhere else.
func sparseFile(t *testing.T, size int64, regions [][2]int64) *os.File {
	t.Helper()
	dir, _ := testDir(t)
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, r := range regions {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xa5}, int(r[1]-r[0])), r[0]); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

const kib = 1 << 10

func TestNextDataSparse(t *testing.T) {
	// Regions are 64 KiB aligned so any allocation unit up to 64 KiB
	// reports them exactly.
	tests := []struct {
		name    string
		size    int64
		regions [][2]int64
	}{
		{"holes between", 1024 * kib, [][2]int64{{0, 64 * kib}, {256 * kib, 320 * kib}, {768 * kib, 832 * kib}}},
		{"leading hole", 512 * kib, [][2]int64{{128 * kib, 192 * kib}}},
		{"data at end", 512 * kib, [][2]int64{{64 * kib, 128 * kib}, {448 * kib, 512 * kib}}},
		{"adjacent writes merge", 512 * kib, [][2]int64{{64 * kib, 128 * kib}, {128 * kib, 192 * kib}}},
		{"only a hole", 1024 * kib, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := sparseFile(t, tc.size, tc.regions)
			want := mergeRanges(tc.regions)
			got := dataRanges(t, f, tc.size)
			if !slices.Equal(got, want) && len(got) == 1 && got[0] == [2]int64{0, tc.size} {
				t.Skip("file system does not report holes (one range for a sparse file)")
			}
			if !slices.Equal(got, want) {
				t.Errorf("data ranges %v, want %v", got, want)
			}
		})
	}
}

func mergeRanges(rs [][2]int64) [][2]int64 {
	var out [][2]int64
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1][1] == r[0] {
			out[n-1][1] = r[1]
			continue
		}
		out = append(out, r)
	}
	return out
}

func TestNextDataOffsets(t *testing.T) {
	size := int64(1024 * kib)
	f := sparseFile(t, size, [][2]int64{{0, 64 * kib}, {256 * kib, 320 * kib}})
	if got := dataRanges(t, f, size); len(got) == 1 && got[0] == [2]int64{0, size} {
		t.Skip("file system does not report holes")
	}
	tests := []struct {
		name             string
		off, size        int64
		wantStart, wantE int64
	}{
		{"inside data", 10, size, 10, 64 * kib},
		{"in hole", 100 * kib, size, 256 * kib, 320 * kib},
		{"after last data", 400 * kib, size, size, size},
		{"at size", size, size, size, size},
		{"beyond size", size + 5, size, size, size},
		{"size cuts data", 0, 32 * kib, 0, 32 * kib},
		{"size cuts hole", 100 * kib, 200 * kib, 200 * kib, 200 * kib},
		{"size beyond file", 300 * kib, 4096 * kib, 300 * kib, 320 * kib},
		{"empty", 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, e, err := NextData(f, tc.off, tc.size)
			if err != nil || s != tc.wantStart || e != tc.wantE {
				t.Errorf("NextData(%d, %d) = %d, %d, %v; want %d, %d", tc.off, tc.size, s, e, err, tc.wantStart, tc.wantE)
			}
		})
	}
}

func TestNextDataDense(t *testing.T) {
	dir, _ := testDir(t)
	p := filepath.Join(dir, "dense")
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 100_000), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := dataRanges(t, f, 100_000); !slices.Equal(got, [][2]int64{{0, 100_000}}) {
		t.Errorf("dense file ranges %v", got)
	}
}

func TestNextDataErrors(t *testing.T) {
	f := sparseFile(t, 10, nil)
	closed, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	tests := []struct {
		name      string
		f         *os.File
		off, size int64
		want      error
	}{
		{"nil file", nil, 0, 10, os.ErrInvalid},
		{"negative offset", f, -1, 10, os.ErrInvalid},
		{"negative size", f, 0, -1, os.ErrInvalid},
		{"closed", closed, 0, 10, os.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := NextData(tc.f, tc.off, tc.size); !errors.Is(err, tc.want) {
				t.Errorf("NextData = %v, want %v", err, tc.want)
			}
		})
	}
}
