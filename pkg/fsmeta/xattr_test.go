package fsmeta

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFetch drives the grow-and-retry loop with a fake system call whose
// data grows between the size query and the read, as when another process
// adds xattrs concurrently.
func TestFetch(t *testing.T) {
	tests := []struct {
		name    string
		sizes   []int // length of the data on successive calls
		errs    []error
		want    int
		wantErr error
	}{
		{"fits", []int{10}, nil, 10, nil},
		{"empty", []int{0}, nil, 0, nil},
		{"grows once", []int{3000, 3000, 3000}, nil, 3000, nil},
		{"grows during size query", []int{3000, 3000, 9000, 9000, 20000, 20000}, nil, 20000, nil},
		{"shrinks to nothing", []int{3000, 0, 0}, nil, 0, nil},
		{"eintr", []int{10, 10}, []error{unix.EINTR}, 10, nil},
		{"hard error", []int{10}, []error{unix.EIO}, 0, unix.EIO},
		{"absurd size", []int{maxXattrBuf + 1, maxXattrBuf + 1}, nil, 0, unix.E2BIG},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			call := func(b []byte) (int, error) {
				i := calls
				calls++
				if i < len(tc.errs) && tc.errs[i] != nil {
					return -1, tc.errs[i]
				}
				n := tc.sizes[min(i, len(tc.sizes)-1)]
				if len(b) == 0 {
					return n, nil // size query
				}
				if n > len(b) {
					return -1, unix.ERANGE
				}
				for j := range n {
					b[j] = byte(j)
				}
				return n, nil
			}
			got, err := fetchWith(make([]byte, 1024), call)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && len(got) != tc.want {
				t.Fatalf("got %d bytes, want %d", len(got), tc.want)
			}
			for j, c := range got {
				if c != byte(j) {
					t.Fatalf("byte %d = %d", j, c)
				}
			}
		})
	}
	t.Run("never settles", func(t *testing.T) {
		n := 2000
		_, err := fetchWith(make([]byte, 16), func(b []byte) (int, error) {
			n += 1000
			if len(b) == 0 {
				return n, nil
			}
			return -1, unix.ERANGE
		})
		if !errors.Is(err, unix.ERANGE) && !errors.Is(err, unix.E2BIG) {
			t.Errorf("err = %v, want ERANGE or E2BIG", err)
		}
	})
}

// TestXattrsLarge uses more names and a bigger value than the initial
// buffers hold, so the growing path runs against the real kernel.
func TestXattrsLarge(t *testing.T) {
	dir, _ := testDir(t)
	requireXattr(t, dir, "user.x", []byte("v"))
	tests := []struct {
		name   string
		xattrs []Xattr
	}{
		{"none", nil},
		{"many names", func() []Xattr {
			var xs []Xattr
			for i := range 60 {
				xs = append(xs, Xattr{fmt.Sprintf("user.gobak-attribute-%03d", i), []byte{byte(i)}})
			}
			return xs
		}()},
		{"big value", []Xattr{{"user.big", bytes.Repeat([]byte("0123456789abcdef"), 200)}}},
		{"unsorted input", []Xattr{{"user.b", []byte("2")}, {"user.a", []byte("1")}, {"user.c", nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, x := range tc.xattrs {
				if err := unix.Setxattr(p, x.Name, x.Value, 0); err != nil {
					t.Fatalf("setxattr %s: %v", x.Name, err)
				}
			}
			m := mustLstat(t, p, ReadOptions{})
			want := slices.Clone(tc.xattrs)
			slices.SortFunc(want, func(a, b Xattr) int { return strings.Compare(a.Name, b.Name) })
			if len(m.Xattrs) != len(want) {
				t.Fatalf("got %d xattrs, want %d", len(m.Xattrs), len(want))
			}
			for i := range want {
				if m.Xattrs[i].Name != want[i].Name || !bytes.Equal(m.Xattrs[i].Value, want[i].Value) {
					t.Errorf("xattr %d = %q=%q, want %q=%q", i, m.Xattrs[i].Name, m.Xattrs[i].Value, want[i].Name, want[i].Value)
				}
			}
			if o := mustLstat(t, p, ReadOptions{NoXattrs: true}); o.Xattrs != nil {
				t.Errorf("NoXattrs still read %d xattrs", len(o.Xattrs))
			}
		})
	}
}

// TestXattrsUnsupported reads xattrs where the file system has none to
// offer: /proc files report ENOTSUP or an empty list, both mean "none".
func TestXattrsUnsupported(t *testing.T) {
	for _, p := range []string{"/proc/self/status", "/proc/self"} {
		t.Run(p, func(t *testing.T) {
			m, err := Lstat(p, ReadOptions{})
			if err != nil {
				t.Fatalf("Lstat(%s): %v", p, err)
			}
			if len(m.Xattrs) != 0 {
				t.Errorf("got xattrs %q", m.Xattrs)
			}
		})
	}
}
