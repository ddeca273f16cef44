package backend_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/mem"
)

func TestReadAllAndReadAt(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	h := backend.Handle{Type: backend.KeyFile, Name: "abcd"}
	data := []byte("0123456789")
	if err := be.Save(ctx, h, data); err != nil {
		t.Fatal(err)
	}

	got, err := backend.ReadAll(ctx, be, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll = %q, %v; want %q", got, err, data)
	}

	tests := []struct {
		name   string
		offset int64
		n      int
		want   string
		err    error
	}{
		{"prefix", 0, 4, "0123", nil},
		{"middle", 3, 4, "3456", nil},
		{"suffix", 6, 4, "6789", nil},
		{"whole", 0, 10, "0123456789", nil},
		{"empty", 4, 0, "", nil},
		{"empty at end", 10, 0, "", nil},
		{"short", 8, 4, "", io.ErrUnexpectedEOF},
		{"at end", 10, 1, "", io.ErrUnexpectedEOF},
		{"beyond end", 20, 3, "", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, tt.n)
			err := backend.ReadAt(ctx, be, h, tt.offset, buf)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ReadAt(%d, %d) = %v, want %v", tt.offset, tt.n, err, tt.err)
				}
				return
			}
			if err != nil || string(buf) != tt.want {
				t.Fatalf("ReadAt(%d, %d) = %q, %v; want %q", tt.offset, tt.n, buf, err, tt.want)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	h := backend.Handle{Type: backend.IndexFile, Name: "ff"}
	if _, err := backend.ReadAll(ctx, be, h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("ReadAll of missing file = %v, want ErrNotExist", err)
	}
	for _, n := range []int{0, 3} {
		if err := backend.ReadAt(ctx, be, h, 0, make([]byte, n)); !errors.Is(err, backend.ErrNotExist) {
			t.Errorf("ReadAt(%d bytes) of missing file = %v, want ErrNotExist", n, err)
		}
	}
}
