package mem_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/backendtest"
	"github.com/gobak/gobak/pkg/backend/mem"
)

// A Faulty without hooks is a transparent wrapper.
func TestFaultyConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Backend { return &mem.Faulty{Backend: mem.New()} })
}

func TestFaultyFailAfter(t *testing.T) {
	ctx := context.Background()
	inner := mem.New()
	f := &mem.Faulty{Backend: inner, FailSave: mem.FailAfter(2, syscall.ENOSPC)}
	for i, name := range []string{"a1", "a2", "a3", "a4"} {
		h := backend.Handle{Type: backend.PackFile, Name: name}
		err := f.Save(ctx, h, []byte(name))
		_, serr := inner.Stat(ctx, h)
		if i < 2 {
			if err != nil || serr != nil {
				t.Errorf("save %d: %v, stat: %v; want success", i+1, err, serr)
			}
			continue
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("save %d: %v, want ENOSPC", i+1, err)
		}
		if !errors.Is(serr, backend.ErrNotExist) {
			t.Errorf("save %d reached the wrapped backend (stat: %v)", i+1, serr)
		}
	}
}

func TestFaultyHooks(t *testing.T) {
	ctx := context.Background()
	errDrop := errors.New("connection dropped")
	h := backend.Handle{Type: backend.IndexFile, Name: "ab"}
	var seen []string
	record := func(op string) func(backend.Handle, int) error {
		return func(got backend.Handle, n int) error {
			if got != h {
				t.Errorf("%s hook got handle %v, want %v", op, got, h)
			}
			if n == 1 {
				seen = append(seen, op)
				return errDrop
			}
			return nil
		}
	}
	f := &mem.Faulty{
		Backend:    mem.New(),
		FailSave:   record("save"),
		FailLoad:   record("load"),
		FailStat:   record("stat"),
		FailRemove: record("remove"),
		FailList: func(ft backend.FileType, n int) error {
			if n == 1 {
				seen = append(seen, "list")
				return errDrop
			}
			return nil
		},
	}
	listFn := func(backend.FileInfo) error { return nil }

	// First call of each method fails, the second gets through.
	for range 2 {
		if err := f.Save(ctx, h, []byte("x")); err != nil && !errors.Is(err, errDrop) {
			t.Fatalf("Save: %v", err)
		}
	}
	if _, err := backend.ReadAll(ctx, f, h); !errors.Is(err, errDrop) {
		t.Errorf("first Load: %v, want injected error", err)
	}
	if _, err := backend.ReadAll(ctx, f, h); err != nil {
		t.Errorf("second Load: %v", err)
	}
	if _, err := f.Stat(ctx, h); !errors.Is(err, errDrop) {
		t.Errorf("first Stat: %v, want injected error", err)
	}
	if err := f.List(ctx, backend.IndexFile, listFn); !errors.Is(err, errDrop) {
		t.Errorf("first List: %v, want injected error", err)
	}
	if err := f.List(ctx, backend.IndexFile, listFn); err != nil {
		t.Errorf("second List: %v", err)
	}
	if err := f.Remove(ctx, h); !errors.Is(err, errDrop) {
		t.Errorf("first Remove: %v, want injected error", err)
	}
	if err := f.Remove(ctx, h); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	want := []string{"save", "load", "stat", "list", "remove"}
	if len(seen) != len(want) {
		t.Fatalf("hooks failed %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("hooks failed %v, want %v", seen, want)
		}
	}
	if f.Location() != "memory" {
		t.Errorf("Location() = %q", f.Location())
	}
}
