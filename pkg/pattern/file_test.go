package pattern

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func ruleStrings(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.String())
	}
	return out
}

func TestParseFile(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		def       Style
		wantRules []string
		wantRoots []string
	}{
		{
			name:      "comments blanks and whitespace",
			text:      "# comment\n\n   \n  + home/susan  \n\t-\thome/*\n  # indented comment\n",
			wantRules: []string{"+ sh:home/susan", "- sh:home/*"},
		},
		{
			name:      "no space after command",
			text:      "+pics/2018/good\n-pics/2018\n!re:^tmp",
			wantRules: []string{"+ sh:pics/2018/good", "- sh:pics/2018", "! re:^tmp"},
		},
		{
			// The patternfile.lst example: P fm, two roots, one exclude.
			name:      "doc: roots and style",
			text:      "# note that excludes use fm: by default\nP fm\nR /home/bobby\nR /home/susan\n- home/bobby/junk\n",
			wantRules: []string{"- fm:home/bobby/junk"},
			wantRoots: []string{"/home/bobby", "/home/susan"},
		},
		{
			name:      "lower-case r and p",
			text:      "r  /data \np re\n- \\.bak$\n",
			wantRules: []string{`- re:\.bak$`},
			wantRoots: []string{"/data"},
		},
		{
			name:      "default style argument",
			text:      "- a\n",
			def:       PathPrefix,
			wantRules: []string{"- pp:a"},
		},
		{
			name:      "CRLF and CR line ends",
			text:      "+ a\r\n- b\r! c\r\n",
			wantRules: []string{"+ sh:a", "- sh:b", "! sh:c"},
		},
		{
			name:      "no trailing newline",
			text:      "- last",
			wantRules: []string{"- sh:last"},
		},
		{
			name:      "hash inside a pattern is kept",
			text:      "- a#b\n",
			wantRules: []string{"- sh:a#b"},
		},
		{name: "empty file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules, roots, err := ParseFile(strings.NewReader(tc.text), tc.def)
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			if got := ruleStrings(rules); !slices.Equal(got, tc.wantRules) {
				t.Errorf("rules = %q, want %q", got, tc.wantRules)
			}
			if !slices.Equal(roots, tc.wantRoots) {
				t.Errorf("roots = %q, want %q", roots, tc.wantRoots)
			}
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name, text string
		def        Style
		want       error
		line       string
	}{
		{"unknown command", "+ a\nx b\n", "", ErrBadLine, "line 2"},
		{"bare pattern", "home/*\n", "", ErrBadLine, "line 1"},
		{"missing value", "# c\n\n-   \n", "", ErrBadLine, "line 3"},
		{"missing root", "R\n", "", ErrBadLine, "line 1"},
		{"bad style", "P xx\n", "", ErrUnknownStyle, "line 1"},
		{"bad selector", "- zz:a\n", "", ErrUnknownStyle, "line 1"},
		{"bad regexp", "+ a\n+ b\n! re:(\n", "", ErrBadPattern, "line 3"},
		{"bad default", "- a\n", "xx", ErrUnknownStyle, "default style"},
		{"line numbers count CR", "+ a\r\r- re:[\n", "", ErrBadPattern, "line 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules, roots, err := ParseFile(strings.NewReader(tc.text), tc.def)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseFile = %v, %v, %v; want %v", rules, roots, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.line) {
				t.Errorf("error %q does not mention %q", err, tc.line)
			}
		})
	}
}

func TestParseExcludeFile(t *testing.T) {
	// The exclude.txt example of `borg help patterns`.
	text := `# Comment line
home/*/junk
*.tmp
fm:aa:something/*
re:^home/[^/]+\.tmp/
sh:home/*/.thumbnails
# Example with spaces, no need to escape as it is processed by borg
some file with spaces.txt
`
	rules, err := ParseExcludeFile(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"! fm:home/*/junk",
		"! fm:*.tmp",
		"! fm:aa:something/*",
		`! re:^home/[^/]+\.tmp/`,
		"! sh:home/*/.thumbnails",
		"! fm:some file with spaces.txt",
	}
	if got := ruleStrings(rules); !slices.Equal(got, want) {
		t.Fatalf("rules = %q, want %q", got, want)
	}
	checkVerdicts(t, NewMatcher(rules...), []verdict{
		{"home/u/junk", true, false},
		{"var/a.tmp", true, false},
		{"home/x.tmp/y", true, false},
		{"home/u/.thumbnails/t.png", true, false},
		{"some file with spaces.txt", true, false},
		{"home/u/keep", false, true},
	})

	if _, err := ParseExcludeFile(strings.NewReader("ok\nre:)\n")); !errors.Is(err, ErrBadPattern) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
	// A leading '+' or '-' is part of the pattern in an exclude file.
	rules, err = ParseExcludeFile(strings.NewReader("- a\n"))
	if err != nil || len(rules) != 1 || rules[0].Pattern.String() != "fm:- a" {
		t.Errorf("ParseExcludeFile(\"- a\") = %v, %v", rules, err)
	}
}

func TestParseFileReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("- a\n"), iotest.ErrReader(boom))
	if _, _, err := ParseFile(r, ""); !errors.Is(err, boom) {
		t.Errorf("ParseFile read error = %v", err)
	}
	if _, err := ParseExcludeFile(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("ParseExcludeFile read error = %v", err)
	}
}
