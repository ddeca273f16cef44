package s3

import (
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

func TestHandleName(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		t    backend.FileType
		rel  string
		want string // "" means skipped
	}{
		{backend.PackFile, "ab/" + hex, hex},
		{backend.PackFile, "ac/" + hex, ""},
		{backend.PackFile, hex, ""},
		{backend.PackFile, "ab/", ""},
		{backend.PackFile, "ab/" + hex + "/x", ""},
		{backend.PackFile, "ab/.tmp-ab", ""},
		{backend.IndexFile, hex, hex},
		{backend.IndexFile, "x/" + hex, ""},
		{backend.IndexFile, "", ""},
		{backend.LockFile, "UPPER", ""},
		{backend.KeyFile, "k1", "k1"},
	}
	for _, tt := range tests {
		t.Run(string(tt.t)+"/"+tt.rel, func(t *testing.T) {
			got, ok := handleName(tt.t, tt.rel)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("handleName(%s, %q) = %q, %v; want %q", tt.t, tt.rel, got, ok, tt.want)
			}
		})
	}
}

// FuzzHandleName checks that every key List accepts is exactly where Save
// puts the handle it reports.
func FuzzHandleName(f *testing.F) {
	f.Add("data", "ab/abcdef")
	f.Add("data", "ab/ac")
	f.Add("index", "0123")
	f.Add("keys", "a/b")
	f.Add("locks", ".tmp-1")
	f.Add("archives", "\xff\x00")
	f.Fuzz(func(t *testing.T, typ, rel string) {
		ft := backend.FileType(typ)
		if ft.Valid() != nil || ft == backend.ConfigFile {
			return
		}
		name, ok := handleName(ft, rel)
		if !ok {
			return
		}
		h := backend.Handle{Type: ft, Name: name}
		if err := h.Valid(); err != nil {
			t.Fatalf("accepted invalid %v: %v", h, err)
		}
		if h.String() != typ+"/"+rel {
			t.Fatalf("key %s/%s reported as %v, stored at %s", typ, rel, h, h.String())
		}
	})
}
