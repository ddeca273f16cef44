package archive

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// describePlan renders a plan as sorted "apath=walk" (or "apath<fsDir")
// lines.
func describePlan(n *pathNode) []string {
	var out []string
	var rec func(n *pathNode)
	rec = func(n *pathNode) {
		switch {
		case n.walk != "":
			out = append(out, n.apath+"="+n.walk)
		case n.apath != "":
			out = append(out, n.apath+"<"+n.fsDir)
		}
		for _, c := range n.sortedChildren() {
			rec(c)
		}
	}
	rec(n)
	if n.stdin {
		out = append(out, "stdin")
	}
	return out
}

func TestPlanPaths(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		paths []string
		stdin bool
		want  []string
		rec   []string
		err   error
	}{
		{"absolute", []string{"/var/lib/pg"}, false,
			[]string{"var</var", "var/lib</var/lib", "var/lib/pg=/var/lib/pg"}, []string{"/var/lib/pg"}, nil},
		{"shared prefix", []string{"/etc", "/var/lib/pg", "/var/log/"}, false,
			[]string{"etc=/etc", "var</var", "var/lib</var/lib", "var/lib/pg=/var/lib/pg", "var/log=/var/log/"}, []string{"/etc", "/var/lib/pg", "/var/log"}, nil},
		{"inside another", []string{"/var/lib/pg", "/var", "/var/lib"}, false,
			[]string{"var=/var"}, []string{"/var/lib/pg", "/var", "/var/lib"}, nil},
		{"root", []string{"/", "/etc"}, false, []string{"=/"}, []string{"/", "/etc"}, nil},
		{"relative", []string{"a/b/", "./c"}, false,
			[]string{"a<a", "a/b=a/b/", "c=./c"}, []string{"a/b", "c"}, nil},
		{"dot", []string{"."}, true, []string{"=.", "stdin"}, []string{".", "-"}, nil},
		{"stdin only", nil, true, []string{"stdin"}, []string{"-"}, nil},
		{"repeat", []string{"/etc", "/etc/", "/etc/../etc"}, false, []string{"etc=/etc"}, []string{"/etc", "/etc", "/etc"}, nil},
		{"dotdot", []string{"../x"}, false, nil, nil, ErrBadPath},
		{"dotdot inside", []string{"a/../../x"}, false, nil, nil, ErrBadPath},
		{"empty", []string{""}, false, nil, nil, ErrBadPath},
		{"relative and absolute clash", []string{"etc", "/etc"}, false, nil, nil, ErrBadPath},
		{"root and more", []string{".", "/nonexistent-elsewhere"}, false, nil, nil, ErrBadPath},
		{"stdin clash", []string{"stdin"}, true, nil, nil, ErrBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "relative and absolute clash" && wd == "/" {
				t.Skip("cwd is /")
			}
			root, rec, err := planPaths(tt.paths, tt.stdin, "stdin")
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := describePlan(root); !slices.Equal(got, tt.want) {
				t.Errorf("plan:\n got %q\nwant %q", got, tt.want)
			}
			var recorded []string
			for _, r := range rec {
				recorded = append(recorded, string(r))
			}
			if !slices.Equal(recorded, tt.rec) {
				t.Errorf("recorded %q, want %q", recorded, tt.rec)
			}
		})
	}
}

func TestPlanPathsStdinName(t *testing.T) {
	for _, name := range []string{"a/b", ".", "..", "x\x00"} {
		if _, _, err := planPaths(nil, true, name); !errors.Is(err, ErrBadPath) || !strings.Contains(err.Error(), "stdin name") {
			t.Errorf("stdin name %q: err = %v", name, err)
		}
	}
}
