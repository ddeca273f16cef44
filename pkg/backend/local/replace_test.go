package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

func TestReplace(t *testing.T) {
	ctx := context.Background()
	l := newRepo(t)
	h := backend.Handle{Type: backend.ConfigFile}
	for _, content := range []string{"first", "second, longer", ""} {
		if err := l.Replace(ctx, h, []byte(content)); err != nil {
			t.Fatalf("Replace(%q): %v", content, err)
		}
		got, err := backend.ReadAll(ctx, l, h)
		if err != nil || string(got) != content {
			t.Fatalf("after Replace(%q): %q, %v", content, got, err)
		}
	}
	// No temporary file is left behind.
	ents, err := os.ReadDir(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s", filepath.Join(l.Path(), e.Name()))
		}
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Replace(ctx2, h, []byte("canceled")); err == nil {
		t.Error("Replace with a canceled context succeeded")
	}
	if got, _ := backend.ReadAll(ctx, l, h); string(got) != "" {
		t.Errorf("canceled Replace changed the file to %q", got)
	}
}
