package backend

import (
	"errors"
	"strings"
	"testing"
)

func TestHandleValid(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name string
		h    Handle
		ok   bool
	}{
		{"config", Handle{ConfigFile, ""}, true},
		{"config with name", Handle{ConfigFile, "ab"}, false},
		{"key hex64", Handle{KeyFile, hex64}, true},
		{"pack hex64", Handle{PackFile, hex64}, true},
		{"index hex64", Handle{IndexFile, hex64}, true},
		{"archive hex64", Handle{ArchiveFile, hex64}, true},
		{"lock hex64", Handle{LockFile, hex64}, true},
		{"key one char", Handle{KeyFile, "a"}, true},
		{"pack two chars", Handle{PackFile, "ab"}, true},
		{"pack one char", Handle{PackFile, "a"}, false},
		{"letters beyond f", Handle{KeyFile, "xyz09"}, true},
		{"max length", Handle{IndexFile, strings.Repeat("a", MaxNameLen)}, true},
		{"too long", Handle{IndexFile, strings.Repeat("a", MaxNameLen+1)}, false},
		{"empty name", Handle{KeyFile, ""}, false},
		{"empty pack name", Handle{PackFile, ""}, false},
		{"uppercase", Handle{KeyFile, "ABCD"}, false},
		{"slash", Handle{PackFile, "ab/cd"}, false},
		{"dotdot", Handle{KeyFile, ".."}, false},
		{"dot", Handle{KeyFile, "."}, false},
		{"traversal", Handle{LockFile, "../../etc"}, false},
		{"temp name", Handle{KeyFile, ".tmp-abcd"}, false},
		{"dash", Handle{KeyFile, "ab-cd"}, false},
		{"space", Handle{KeyFile, "ab cd"}, false},
		{"nul", Handle{KeyFile, "ab\x00"}, false},
		{"non-ascii", Handle{KeyFile, "abé"}, false},
		{"backslash", Handle{KeyFile, `ab\cd`}, false},
		{"unknown type", Handle{"bogus", "abcd"}, false},
		{"empty type", Handle{"", "abcd"}, false},
		{"type with slash", Handle{"data/ab", "abcd"}, false},
		{"capitalised type", Handle{"Keys", "abcd"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Valid()
			if tt.ok && err != nil {
				t.Fatalf("Valid(%#v) = %v, want nil", tt.h, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidHandle) {
				t.Fatalf("Valid(%#v) = %v, want ErrInvalidHandle", tt.h, err)
			}
		})
	}
}

func TestFileTypes(t *testing.T) {
	types := FileTypes()
	if len(types) != 6 {
		t.Fatalf("FileTypes() has %d entries, want 6", len(types))
	}
	seen := map[FileType]bool{}
	for _, ft := range types {
		if err := ft.Valid(); err != nil {
			t.Errorf("%q.Valid() = %v", ft, err)
		}
		if seen[ft] {
			t.Errorf("duplicate type %q", ft)
		}
		seen[ft] = true
	}
	types[0] = "mutated"
	if FileTypes()[0] != ConfigFile {
		t.Fatal("FileTypes shares its backing array")
	}
}

func TestHandleString(t *testing.T) {
	tests := []struct {
		h    Handle
		want string
	}{
		{Handle{ConfigFile, ""}, "config"},
		{Handle{KeyFile, "abc"}, "keys/abc"},
		{Handle{PackFile, "abcdef"}, "data/ab/abcdef"},
		{Handle{PackFile, "ab"}, "data/ab/ab"},
		{Handle{IndexFile, "0f"}, "index/0f"},
		{Handle{ArchiveFile, "12"}, "archives/12"},
		{Handle{LockFile, "99"}, "locks/99"},
		// Invalid handles still print without panicking.
		{Handle{PackFile, "a"}, "data/a"},
		{Handle{PackFile, ""}, "data/"},
		{Handle{ConfigFile, "x"}, "config/x"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.h.String(); got != tt.want {
				t.Fatalf("%#v.String() = %q, want %q", tt.h, got, tt.want)
			}
		})
	}
}
