package backendtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

func testRoundTrip(t *testing.T, be backend.Backend) {
	for i, ft := range backend.FileTypes() {
		t.Run(string(ft), func(t *testing.T) {
			h := handleFor(ft)
			data := randomData(100 + 977*i)
			save(t, be, h, data)
			checkContent(t, be, h, data)
			got, err := backend.ReadAll(context.Background(), be, h)
			if err != nil || string(got) != string(data) {
				t.Fatalf("ReadAll(%v): %d bytes, %v; want %d bytes", h, len(got), err, len(data))
			}
		})
	}
}

func testEmptyFile(t *testing.T, be backend.Backend) {
	tests := []struct {
		name string
		ft   backend.FileType
		data []byte
	}{
		{"nil/keys", backend.KeyFile, nil},
		{"empty/keys", backend.KeyFile, []byte{}},
		{"nil/data", backend.PackFile, nil},
		{"empty/config", backend.ConfigFile, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := handleFor(tt.ft)
			save(t, be, h, tt.data)
			checkContent(t, be, h, nil)
			if got := load(t, be, h, 0, 10); len(got) != 0 {
				t.Errorf("Load(0, 10) of empty file returned %d bytes", len(got))
			}
			if got := load(t, be, h, 5, 0); len(got) != 0 {
				t.Errorf("Load(5, 0) of empty file returned %d bytes", len(got))
			}
			if got := listAll(t, be, tt.ft); got[h.Name] != 0 {
				t.Errorf("List reports size %d for empty file", got[h.Name])
			} else if _, ok := got[h.Name]; !ok {
				t.Errorf("List does not report the empty file")
			}
			if err := be.Remove(context.Background(), h); err != nil {
				t.Fatalf("Remove: %v", err)
			}
		})
	}
}

func testLargeFile(t *testing.T, be backend.Backend) {
	const size = 16 << 20
	h := handleFor(backend.PackFile)
	data := randomData(size)
	save(t, be, h, data)
	checkContent(t, be, h, data)
	for _, off := range []int64{0, 1, size/2 + 3, size - 1<<20, size - 1} {
		got := load(t, be, h, off, 1<<20)
		want := data[off:min(off+1<<20, size)]
		if string(got) != string(want) {
			t.Errorf("Load(%d, 1MiB): got %d bytes, want %d (first difference at %d)",
				off, len(got), len(want), firstDiff(got, want))
		}
	}
}

func testRangedLoad(t *testing.T, be backend.Backend) {
	const size = 1000
	data := randomData(size)
	h := handleFor(backend.PackFile)
	save(t, be, h, data)
	tests := []struct{ offset, length int64 }{
		{0, 0}, {0, -1}, {0, 1}, {0, size}, {0, size + 1}, {0, 1 << 40},
		{1, 0}, {1, 1}, {10, 100}, {500, 500}, {500, 501}, {500, 1000},
		{size - 1, 0}, {size - 1, 1}, {size - 1, 10},
		{size, 0}, {size, 1}, {size + 1, 0}, {size + 10, 5}, {1 << 40, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d+%d", tt.offset, tt.length), func(t *testing.T) {
			start := min(tt.offset, size)
			end := int64(size)
			if tt.length > 0 {
				end = min(start+tt.length, size)
			}
			got := load(t, be, h, tt.offset, tt.length)
			if string(got) != string(data[start:end]) {
				t.Fatalf("Load(%d, %d) returned %d bytes, want %d bytes [%d:%d]",
					tt.offset, tt.length, len(got), end-start, start, end)
			}
		})
	}
	t.Run("ReadAt", func(t *testing.T) {
		buf := make([]byte, 10)
		if err := backend.ReadAt(context.Background(), be, h, size-10, buf); err != nil ||
			string(buf) != string(data[size-10:]) {
			t.Errorf("ReadAt(size-10, 10) = %v", err)
		}
		err := backend.ReadAt(context.Background(), be, h, size-5, buf)
		wantErr(t, "ReadAt past the end", err, io.ErrUnexpectedEOF)
	})
	t.Run("negative offset", func(t *testing.T) {
		rd, err := be.Load(context.Background(), h, -1, 0)
		if err == nil {
			rd.Close()
			t.Fatal("Load with offset -1 succeeded")
		}
	})
}

func testSaveExisting(t *testing.T, be backend.Backend) {
	for _, ft := range []backend.FileType{backend.ConfigFile, backend.KeyFile, backend.PackFile, backend.LockFile} {
		t.Run(string(ft), func(t *testing.T) {
			h := handleFor(ft)
			orig := randomData(3000)
			save(t, be, h, orig)
			for _, other := range [][]byte{randomData(10), randomData(5000), orig, nil} {
				err := be.Save(context.Background(), h, other)
				wantErr(t, fmt.Sprintf("second Save of %v (%d bytes)", h, len(other)), err, backend.ErrExist)
			}
			checkContent(t, be, h, orig)
			checkList(t, be, ft, map[string]int64{h.Name: int64(len(orig))})
		})
	}
}

func testMissing(t *testing.T, be backend.Backend) {
	ctx := context.Background()
	// One existing file of each type, so that only the name is missing.
	for _, ft := range backend.FileTypes() {
		if ft != backend.ConfigFile {
			save(t, be, handleFor(ft), []byte("x"))
		}
	}
	for _, ft := range backend.FileTypes() {
		t.Run(string(ft), func(t *testing.T) {
			h := handleFor(ft)
			rd, err := be.Load(ctx, h, 0, 0)
			if err == nil {
				rd.Close()
			}
			wantErr(t, "Load", err, backend.ErrNotExist)
			rd, err = be.Load(ctx, h, 10, 10)
			if err == nil {
				rd.Close()
			}
			wantErr(t, "ranged Load", err, backend.ErrNotExist)
			_, err = be.Stat(ctx, h)
			wantErr(t, "Stat", err, backend.ErrNotExist)
			wantErr(t, "Remove", be.Remove(ctx, h), backend.ErrNotExist)
			_, err = backend.ReadAll(ctx, be, h)
			wantErr(t, "ReadAll", err, backend.ErrNotExist)
			if errors.Is(err, backend.ErrExist) || errors.Is(err, backend.ErrInvalidHandle) {
				t.Errorf("missing-file error also matches another sentinel: %v", err)
			}
		})
	}
}
