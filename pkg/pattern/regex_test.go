package pattern

import "testing"

func TestAdaptRegex(t *testing.T) {
	tests := []struct{ in, want string }{
		{`^home/.*\.cache$`, `^home/.*\.cache$`},
		{`\.jpe?g(?i)$`, `(?i)\.jpe?g$`},
		{`(?i)^a`, `(?i)^a`},
		{`a(?s)b(?im)c`, `(?ims)abc`},
		{`a(?u)b`, `ab`},
		{`a(?iu)b`, `(?i)ab`},
		{`a(?x)b`, `a(?x)b`},       // unsupported flag: left for Go to reject
		{`a(?i:b)c`, `a(?i:b)c`},   // scoped flags are the same in Go
		{`a(?-i)b`, `a(?-i)b`},     // not a Python global flag group
		{`a(?P<n>b)`, `a(?P<n>b)`}, // named group
		{`[(?i)]x`, `[(?i)]x`},     // inside a class
		{`[]](?i)`, `(?i)[]]`},     // ']' first in a class is literal
		{`[^]](?i)`, `(?i)[^]]`},   // also after '^'
		{`\((?i)`, `(?i)\(`},       // escaped parenthesis
		{`a\Z`, `a\z`},             // Python end of text
		{`[\Z]`, `[\Z]`},           // not inside a class
		{`\\Z`, `\\Z`},             // escaped backslash, then Z
		{`(?)`, `(?)`},             // empty: not a flag group
		{`a\`, `a\`},               // trailing backslash
		{"\xff(?i)", "(?i)\xff"},   // bytes pass through
		{`(?i`, `(?i`},             // unterminated
		{`[a(?i)`, `[a(?i)`},       // unterminated class
		{`x[[:alpha:]](?i)`, `(?i)x[[:alpha:]]`},
	}
	for _, tc := range tests {
		if got := adaptRegex(tc.in); got != tc.want {
			t.Errorf("adaptRegex(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRegexFlags(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "hoisted flag applies before it", pattern: `re:abc(?i)`, match: []string{"ABC", "xAbCx"}, nomatch: []string{"ab"}},
		{name: "dotall", pattern: `re:^a.b$(?s)`, match: []string{"a\nb"}},
		{name: "no dotall", pattern: `re:^a.b$`, nomatch: []string{"a\nb"}},
		{name: "multiline", pattern: `re:^b$(?m)`, match: []string{"a\nb\nc"}},
		{name: "bracket first in class", pattern: `re:^[]a]$`, match: []string{"]", "a"}, nomatch: []string{"b"}},
	})
}
