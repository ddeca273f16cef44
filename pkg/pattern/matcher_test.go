package pattern

import (
	"strings"
	"sync"
	"testing"
)

type verdict struct {
	path     string
	excluded bool
	recurse  bool
}

func checkVerdicts(t *testing.T, m *Matcher, want []verdict) {
	t.Helper()
	for _, v := range want {
		ex, rec := m.Excluded(v.path)
		if ex != v.excluded || rec != v.recurse {
			t.Errorf("Excluded(%q) = %v, %v; want %v, %v", v.path, ex, rec, v.excluded, v.recurse)
		}
	}
}

func rulesFrom(t *testing.T, text string) []Rule {
	t.Helper()
	rules, _, err := ParseFile(strings.NewReader(text), "")
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	return rules
}

func TestMatcherZeroValue(t *testing.T) {
	var m Matcher
	if !m.Empty() {
		t.Error("zero Matcher is not empty")
	}
	checkVerdicts(t, &m, []verdict{{"a", false, true}, {"", false, true}})
	m.Add(Rule{Action: Exclude}) // nil pattern: ignored
	if !m.Empty() {
		t.Error("rule without pattern was added")
	}
	m.Add(Rule{Action: Exclude, Pattern: mustParse(t, "a", "")})
	if m.Empty() {
		t.Error("Empty after Add")
	}
	checkVerdicts(t, &m, []verdict{{"a", true, true}, {"b", false, true}})
}

func TestMatcherFirstMatchWins(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		want  []verdict
	}{
		{
			// "--pattern=+pics/2018/good --pattern=-pics/2018": keep the
			// good 2018 pictures, drop the other 2018 ones.
			name:  "doc: pics 2018",
			rules: "+pics/2018/good\n-pics/2018\n",
			want: []verdict{
				{"pics/2018/good", false, true},
				{"pics/2018/good/a.jpg", false, true},
				{"pics/2018", true, true},
				{"pics/2018/bad.jpg", true, true},
				{"pics/2019/x.jpg", false, true},
			},
		},
		{
			name:  "order reversed: exclude shadows include",
			rules: "- pics/2018\n+ pics/2018/good\n",
			want:  []verdict{{"pics/2018/good/a.jpg", true, true}},
		},
		{
			// The long patterns-file example of `borg help patterns`.
			name: "doc: patterns file with R, -, +, !",
			rules: `# Define the recursion root
R /
# Exclude all iso files in any directory
- **/*.iso
# Explicitly include all inside etc and root
+ etc/**
+ root/**
# Exclude a specific directory under each user's home directories
- home/*/.cache
# Explicitly include everything in /home
+ home/**
# Explicitly exclude some directories without recursing into them
! re:^(dev|proc|run|sys|tmp)
# Exclude all other files and directories
# that are not specifically included earlier.
- **
`,
			want: []verdict{
				{"etc/hosts.iso", true, true},
				{"etc/hosts", false, true},
				{"root/.bashrc", false, true},
				{"home/alice/.cache", true, true},
				{"home/alice/.cache/x", true, true},
				{"home/alice/doc.txt", false, true},
				{"home", false, true},
				{"dev", true, false},
				{"proc/1", true, false},
				{"usr/bin/ls", true, true},
				{"var", true, true},
			},
		},
		{
			// The patterns.lst example: sh: is the default style.
			name: "doc: patterns.lst homes",
			rules: `# "sh:" pattern style is the default
- home/*/.cache
+ home/susan
+ pf:home/bobby/specialfile.txt
- home/*
! re:^(dev|proc|run|sys|tmp)
`,
			want: []verdict{
				{"home/susan/.cache/x", true, true},
				{"home/susan/notes", false, true},
				{"home/bobby/specialfile.txt", false, true},
				{"home/bobby/other.txt", true, true},
				{"home/bobby", true, true},
				{"tmp/x", true, false},
				{"etc/passwd", false, true},
			},
		},
		{
			// A pf: rule is consulted before everything else, whatever its
			// position (borg's hash-table lookup).
			name:  "pf ignores order",
			rules: "- **\n+ pf:keep/this\n",
			want: []verdict{
				{"keep/this", false, true},
				{"keep/that", true, true},
				{"keep", true, true},
			},
		},
		{
			name:  "pf last duplicate wins",
			rules: "+ pf:a\n! pf:/a\n",
			want:  []verdict{{"a", true, false}, {"a/b", false, true}},
		},
		{
			name:  "P switches style for later lines",
			rules: "- a*z\nP fm\n- b*z\n",
			want: []verdict{
				{"axz", true, true},
				{"a/z", false, true},
				{"b/z", true, true},
			},
		},
		{
			name:  "no-recurse only for bang",
			rules: "! tmp\n- cache\n",
			want:  []verdict{{"tmp", true, false}, {"tmp/x", true, false}, {"cache", true, true}, {"other", false, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkVerdicts(t, NewMatcher(rulesFrom(t, tc.rules)...), tc.want)
		})
	}
}

func TestExcludeFlagsDoNotRecurse(t *testing.T) {
	// `--exclude` rules are no-recurse excludes, as in borg.
	r, err := ParseExclude("home/*/.cache")
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != ExcludeNoRecurse || r.Pattern.Style() != Fnmatch {
		t.Fatalf("ParseExclude = %v", r)
	}
	checkVerdicts(t, NewMatcher(r), []verdict{{"home/a/b/.cache", true, false}, {"home/a", false, true}})
	if _, err := ParseExclude("re:("); err == nil {
		t.Error("ParseExclude accepted a bad regexp")
	}
}

func TestMatcherExtractPaths(t *testing.T) {
	// extract: --exclude rules first, then the PATH arguments as pp:
	// includes, and paths nothing matches are left out.
	ex, _ := ParseExclude("*.tmp")
	m := NewMatcher(ex)
	for _, arg := range []string{"home/alice", "etc/hosts", "never/there"} {
		m.Add(Rule{Action: Include, Pattern: mustParse(t, arg, PathPrefix)})
	}
	m.SetDefaultExcluded(true)
	checkVerdicts(t, m, []verdict{
		{"home/alice/a.txt", false, true},
		{"home/alice/a.tmp", true, false},
		{"etc/hosts", false, true},
		{"etc/passwd", true, true},
		{"home/bob", true, true},
	})
	un := m.UnmatchedIncludes()
	if len(un) != 1 || un[0].String() != "pp:never/there" {
		t.Errorf("UnmatchedIncludes = %v, want [pp:never/there]", un)
	}
}

func TestMatcherConcurrent(t *testing.T) {
	m := NewMatcher(rulesFrom(t, "+ home/susan\n- home/*\n! re:^tmp\n")...)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				path := []string{"home/susan/x", "home/bob/y", "tmp/z", "etc"}[(i+g)%4]
				ex, _ := m.Excluded(path)
				if want := path == "home/bob/y" || path == "tmp/z"; ex != want {
					t.Errorf("Excluded(%q) = %v", path, ex)
					return
				}
			}
		})
	}
	wg.Wait()
	if un := m.UnmatchedIncludes(); len(un) != 0 {
		t.Errorf("UnmatchedIncludes = %v", un)
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{Include: "+", Exclude: "-", ExcludeNoRecurse: "!", Action(9): "Action(9)"} {
		if got := a.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(a), got, want)
		}
	}
	r := Rule{Action: Exclude, Pattern: mustParse(t, "sh:a/**", "")}
	if got := r.String(); got != "- sh:a/**" {
		t.Errorf("Rule.String() = %q", got)
	}
}
