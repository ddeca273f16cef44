package backendtest

import (
	"context"
	"errors"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

func testList(t *testing.T, be backend.Backend) {
	want := make(map[backend.FileType]map[string]int64)
	for i, ft := range backend.FileTypes() {
		n := 5
		switch ft {
		case backend.ConfigFile:
			n = 1
		case backend.PackFile:
			n = 40 // spread over many data/xx directories
		}
		want[ft] = make(map[string]int64)
		for j := range n {
			h := handleFor(ft)
			size := (i*7 + j*13) % 50
			save(t, be, h, randomData(size))
			want[ft][h.Name] = int64(size)
		}
	}
	for _, ft := range backend.FileTypes() {
		t.Run(string(ft), func(t *testing.T) { checkList(t, be, ft, want[ft]) })
	}
}

func testListStop(t *testing.T, be backend.Backend) {
	for range 5 {
		save(t, be, handleFor(backend.PackFile), []byte("pack"))
	}
	sentinel := errors.New("stop here")
	calls := 0
	err := be.List(context.Background(), backend.PackFile, func(backend.FileInfo) error {
		calls++
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("callback called %d times after returning an error, want 1", calls)
	}
}

func testListCallback(t *testing.T, be backend.Backend) {
	want := make(map[string]int64)
	for i := range 4 {
		h := handleFor(backend.LockFile)
		save(t, be, h, randomData(i*100))
		want[h.Name] = int64(i * 100)
	}
	// fn may call into the backend while List runs.
	err := be.List(context.Background(), backend.LockFile, func(fi backend.FileInfo) error {
		h := backend.Handle{Type: backend.LockFile, Name: fi.Name}
		data, err := backend.ReadAll(context.Background(), be, h)
		if err != nil {
			return err
		}
		if int64(len(data)) != want[fi.Name] {
			t.Errorf("%s: loaded %d bytes, want %d", fi.Name, len(data), want[fi.Name])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
}

func testRemoveThenList(t *testing.T, be backend.Backend) {
	ctx := context.Background()
	for _, ft := range []backend.FileType{backend.PackFile, backend.LockFile, backend.ConfigFile} {
		t.Run(string(ft), func(t *testing.T) {
			n := 3
			if ft == backend.ConfigFile {
				n = 1
			}
			var hs []backend.Handle
			contents := make(map[backend.Handle][]byte)
			want := make(map[string]int64)
			for i := range n {
				h := handleFor(ft)
				contents[h] = randomData(i + 1)
				save(t, be, h, contents[h])
				hs = append(hs, h)
				want[h.Name] = int64(i + 1)
			}
			gone := hs[0]
			if err := be.Remove(ctx, gone); err != nil {
				t.Fatalf("Remove(%v): %v", gone, err)
			}
			delete(want, gone.Name)
			checkList(t, be, ft, want)
			_, err := be.Stat(ctx, gone)
			wantErr(t, "Stat after Remove", err, backend.ErrNotExist)
			wantErr(t, "second Remove", be.Remove(ctx, gone), backend.ErrNotExist)
			for _, h := range hs[1:] {
				checkContent(t, be, h, contents[h])
			}
			// The name is free again.
			save(t, be, gone, []byte("again"))
			checkContent(t, be, gone, []byte("again"))
		})
	}
}
