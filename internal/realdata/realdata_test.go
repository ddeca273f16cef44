package realdata

import (
	"fmt"
	"os"
	"testing"
)

func TestMixed(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for i, s := range []string{"aaaa", "bbbbbb", ""} {
		if err := os.WriteFile(fmt.Sprintf("%s/f%d", a, i), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(b+"/z", []byte("zz"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		size, perFile int
		roots         []string
		want          string
	}{
		{8, 0, []string{a}, "aaaabbbb"},
		{100, 0, []string{a}, "aaaabbbbbb"},
		{100, 3, []string{a}, "aaabbb"},
		{100, 0, []string{a, b}, "aaaazzbbbbbb"}, // alternating between roots
	}
	for _, c := range cases {
		got, err := Mixed(c.size, c.perFile, c.roots...)
		if err != nil || string(got) != c.want {
			t.Errorf("Mixed(%d, %d, %v) = %q, %v; want %q", c.size, c.perFile, c.roots, got, err, c.want)
		}
	}
}
