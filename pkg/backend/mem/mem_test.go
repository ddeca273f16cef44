package mem_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/backendtest"
	"github.com/gobak/gobak/pkg/backend/mem"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.Backend { return mem.New() })
}

func BenchmarkMem(b *testing.B) {
	backendtest.Bench(b, func(*testing.B) backend.Backend { return mem.New() })
}

// TestCopies checks that Mem neither keeps the caller's Save buffer nor
// hands out its own storage from Load.
func TestCopies(t *testing.T) {
	ctx := context.Background()
	m := mem.New()
	h := backend.Handle{Type: backend.KeyFile, Name: "aa"}
	data := []byte("original")
	if err := m.Save(ctx, h, data); err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXXXXX")

	got, err := backend.ReadAll(ctx, m, h)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "original" {
		t.Fatalf("after changing the Save buffer, content is %q", got)
	}
	copy(got, "YYYYYYYY")
	again, err := backend.ReadAll(ctx, m, h)
	if err != nil || !bytes.Equal(again, []byte("original")) {
		t.Fatalf("after changing a loaded buffer, content is %q (%v)", again, err)
	}
}
