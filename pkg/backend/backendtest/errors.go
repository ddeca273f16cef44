package backendtest

import (
	"context"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

// invalidHandles are handles every backend must reject.
var invalidHandles = []backend.Handle{
	{Type: backend.ConfigFile, Name: "ab"},
	{Type: backend.KeyFile, Name: ""},
	{Type: backend.PackFile, Name: "a"},
	{Type: backend.PackFile, Name: "ab/cd"},
	{Type: backend.IndexFile, Name: ".."},
	{Type: backend.LockFile, Name: "../config"},
	{Type: backend.ArchiveFile, Name: "ABCDEF"},
	{Type: backend.KeyFile, Name: ".tmp-0123"},
	{Type: backend.KeyFile, Name: strings.Repeat("a", backend.MaxNameLen+1)},
	{Type: "bogus", Name: "abcd"},
	{Type: "", Name: "abcd"},
	{Type: "../keys", Name: "abcd"},
}

func testInvalidHandle(t *testing.T, be backend.Backend) {
	ctx := context.Background()
	for _, h := range invalidHandles {
		t.Run(h.String(), func(t *testing.T) {
			wantErr(t, "Save", be.Save(ctx, h, []byte("data")), backend.ErrInvalidHandle)
			rd, err := be.Load(ctx, h, 0, 0)
			if err == nil {
				rd.Close()
			}
			wantErr(t, "Load", err, backend.ErrInvalidHandle)
			_, err = be.Stat(ctx, h)
			wantErr(t, "Stat", err, backend.ErrInvalidHandle)
			wantErr(t, "Remove", be.Remove(ctx, h), backend.ErrInvalidHandle)
		})
	}
	for _, ft := range []backend.FileType{"bogus", "", "data/00", "Keys"} {
		err := be.List(ctx, ft, func(backend.FileInfo) error { return nil })
		wantErr(t, "List("+string(ft)+")", err, backend.ErrInvalidHandle)
	}
	// Nothing was written by the rejected Saves.
	for _, ft := range backend.FileTypes() {
		checkList(t, be, ft, nil)
	}
}

func testCanceledContext(t *testing.T, be backend.Backend) {
	existing := handleFor(backend.IndexFile)
	save(t, be, existing, []byte("index"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fresh := handleFor(backend.IndexFile)

	wantErr(t, "Save", be.Save(ctx, fresh, []byte("never")), context.Canceled)
	rd, err := be.Load(ctx, existing, 0, 0)
	if err == nil {
		rd.Close()
	}
	wantErr(t, "Load", err, context.Canceled)
	_, err = be.Stat(ctx, existing)
	wantErr(t, "Stat", err, context.Canceled)
	for _, ft := range []backend.FileType{backend.IndexFile, backend.ConfigFile} {
		called := false
		err = be.List(ctx, ft, func(backend.FileInfo) error { called = true; return nil })
		wantErr(t, "List("+string(ft)+")", err, context.Canceled)
		if called {
			t.Errorf("List(%s) with a canceled context called fn", ft)
		}
	}
	wantErr(t, "Remove", be.Remove(ctx, existing), context.Canceled)

	// Nothing changed.
	_, err = be.Stat(context.Background(), fresh)
	wantErr(t, "Stat of file saved with canceled context", err, backend.ErrNotExist)
	checkContent(t, be, existing, []byte("index"))
}
