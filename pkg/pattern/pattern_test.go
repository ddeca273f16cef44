package pattern

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// mustParse parses s or fails the test.
func mustParse(t testing.TB, s string, def Style) *Pattern {
	t.Helper()
	p, err := Parse(s, def)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", s, def, err)
	}
	return p
}

// matchCase lists paths a pattern must and must not match.
type matchCase struct {
	name    string // where the case comes from
	pattern string
	def     Style // default style; "" means Fnmatch, as for --exclude
	match   []string
	nomatch []string
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.pattern, func(t *testing.T) {
			p := mustParse(t, tc.pattern, tc.def)
			for _, path := range tc.match {
				if !p.Match(path) {
					t.Errorf("%s does not match %q, want match", p, path)
				}
			}
			for _, path := range tc.nomatch {
				if p.Match(path) {
					t.Errorf("%s matches %q, want no match", p, path)
				}
			}
		})
	}
}

// TestBorgDocExamples mirrors the examples of `borg help patterns` (borg 1.x
// and 2.x documentation, paraphrased in the case names).
func TestBorgDocExamples(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			// "-e '*.o'" drops object files but keeps .odt documents.
			name: "doc: star-dot-o", pattern: "*.o",
			match:   []string{"home/user/file.o", "file.o", "/home/user/file.o", "a.o/inside"},
			nomatch: []string{"home/user/file.odt", "home/user/fileo"},
		},
		{
			// "-e 'home/*/junk'" drops junk at any depth below a home
			// directory, because fm: '*' crosses '/'; not importantjunk, not
			// /etc/junk. Older docs spell it with a leading slash.
			name: "doc: home-star-junk", pattern: "home/*/junk",
			match:   []string{"home/user/junk", "home/user/subdir/junk", "home/user/junk/file"},
			nomatch: []string{"home/user/importantjunk", "etc/junk", "home/junk", "home/user/junkyard"},
		},
		{
			name: "doc: leading slash is stripped", pattern: "/home/*/junk",
			match:   []string{"home/user/junk", "home/user/subdir/junk"},
			nomatch: []string{"home/user/importantjunk", "etc/junk"},
		},
		{
			// "-e home/user/cache/" drops what is inside the cache
			// directory, but not the directory itself.
			name: "doc: trailing slash keeps the directory", pattern: "home/user/cache/",
			match:   []string{"home/user/cache/important", "home/user/cache/a/b"},
			nomatch: []string{"home/user/cache", "home/user/cachex/a", "home/user"},
		},
		{
			// "--exclude 're:^home/[^/]+\.tmp/'" drops the contents of
			// directories directly in home whose name ends in .tmp.
			name: "doc: re contents of tmp dirs", pattern: `re:^home/[^/]+\.tmp/`,
			match:   []string{"home/x.tmp/file", "home/x.tmp/a/b"},
			nomatch: []string{"home/x.tmp", "home/a/x.tmp/file", "x/home/x.tmp/file"},
		},
		{
			// Exclude-file example line "fm:aa:something/*": an explicit
			// selector lets a pattern start with "xx:".
			name: "doc: explicit fm before aa:", pattern: "fm:aa:something/*",
			match:   []string{"aa:something/x", "aa:something/x/y"},
			nomatch: []string{"aa:something", "something/x"},
		},
		{
			// Exclude-file example line "sh:home/*/.thumbnails": sh: '*'
			// stays within one directory level.
			name: "doc: sh thumbnails", pattern: "sh:home/*/.thumbnails",
			match:   []string{"home/user/.thumbnails", "home/user/.thumbnails/x/y.png"},
			nomatch: []string{"home/user/sub/.thumbnails", "home/.thumbnails"},
		},
		{
			// Exclude-file example line with spaces: no escaping needed.
			name: "doc: spaces", pattern: "some file with spaces.txt",
			match:   []string{"some file with spaces.txt"},
			nomatch: []string{"some", "dir/some file with spaces.txt"},
		},
		{
			// "--pattern '+ re:\.jpe?g(?i)$'": JPEG files, case
			// insensitively, via a Python-style trailing global flag.
			name: "doc: re jpeg case-insensitive", pattern: `re:\.jpe?g(?i)$`,
			match:   []string{"home/a/b.jpg", "home/a/B.JPG", "x.JpEg"},
			nomatch: []string{"home/a/b.jpgx", "home/a/b.png"},
		},
		{
			// "--exclude 're:\.iso(?i)$'": big downloads in any case.
			name: "doc: re iso", pattern: `re:\.iso(?i)$`,
			match:   []string{"home/u/Downloads/debian.ISO", "a.iso"},
			nomatch: []string{"a.isox"},
		},
		{
			// "--exclude 'sh:home/**/.*'": hidden files at any depth in homes.
			name: "doc: sh hidden files", pattern: "sh:home/**/.*",
			match:   []string{"home/.profile", "home/u/.bashrc", "home/u/a/b/.git/config"},
			nomatch: []string{"home/u/visible", "etc/.hidden", "home/u/a.b"},
		},
		{
			// Patterns-file example "- **/*.iso": .iso files in any directory.
			name: "doc: sh any-depth iso", pattern: "**/*.iso", def: Shell,
			match:   []string{"a.iso", "home/u/a.iso", "x.iso/inside"},
			nomatch: []string{"a.isox", "home/u/iso"},
		},
		{
			// Patterns-file example "+ etc/**": etc and everything in it.
			name: "doc: sh etc double star", pattern: "etc/**", def: Shell,
			match:   []string{"etc", "etc/passwd", "etc/a/b/c"},
			nomatch: []string{"etcx", "usr/etc", "et"},
		},
		{
			// Patterns-file example "- home/*/.cache".
			name: "doc: sh home cache", pattern: "home/*/.cache", def: Shell,
			match:   []string{"home/alice/.cache", "home/alice/.cache/x"},
			nomatch: []string{"home/alice/other/.cache", "home/.cache"},
		},
		{
			// The same pattern as an fm: --exclude: '*' crosses '/', so it
			// also catches deeper .cache directories.
			name: "fm home cache", pattern: "/home/*/.cache",
			match:   []string{"home/alice/.cache", "home/alice/.cache/x", "home/alice/other/.cache"},
			nomatch: []string{"home/.cache", "home/alice/.cachex"},
		},
		{
			// Patterns-file example "! re:^(dev|proc|run|sys|tmp)": note that
			// it also catches /device.
			name: "doc: re system dirs", pattern: "re:^(dev|proc|run|sys|tmp)", def: Shell,
			match:   []string{"dev", "proc/1/maps", "tmp", "device"},
			nomatch: []string{"home/dev", "usr"},
		},
		{
			// Patterns-file example "- **": everything.
			name: "doc: sh everything", pattern: "**", def: Shell,
			match: []string{"a", "a/b/c", ".hidden"},
		},
		{
			// "pp:root/somedir matches root/somedir and everything therein".
			name: "doc: pp", pattern: "pp:root/somedir",
			match:   []string{"root/somedir", "root/somedir/a/b", "/root/somedir"},
			nomatch: []string{"root/somedirx", "root", "x/root/somedir"},
		},
		{
			name: "doc: pp trailing slash makes no difference", pattern: "pp:/root/somedir/",
			match:   []string{"root/somedir", "root/somedir/a"},
			nomatch: []string{"root/somedirx"},
		},
		{
			// "pf:root/file.ext matches root/file.ext only".
			name: "doc: pf", pattern: "pf:root/file.ext",
			match:   []string{"root/file.ext", "/root/file.ext"},
			nomatch: []string{"root/file.ext/x", "root/file.ex", "a/root/file.ext"},
		},
		{
			// "Wrap meta-characters in brackets for a literal match".
			name: "doc: bracketed question mark", pattern: "what[?]",
			match:   []string{"what?", "what?/x"},
			nomatch: []string{"whatx", "what"},
		},
		{
			// extract PATH arguments default to pp:.
			name: "extract PATH", pattern: "home/user", def: PathPrefix,
			match:   []string{"home/user", "home/user/x"},
			nomatch: []string{"home/username", "home"},
		},
	})
}

// TestStyleDifferences contrasts fm:, sh:, re:, pp: and pf: on the same text.
func TestStyleDifferences(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "fm star crosses slash", pattern: "fm:a*z", match: []string{"a/b/z", "az", "a/z/q"}, nomatch: []string{"a/b/zq"}},
		{name: "sh star stays in name", pattern: "sh:a*z", match: []string{"az", "abz", "abz/q"}, nomatch: []string{"a/b/z", "a/z"}},
		{name: "fm question crosses slash", pattern: "fm:a?b", match: []string{"a/b", "axb"}, nomatch: []string{"ab"}},
		{name: "sh question stays in name", pattern: "sh:a?b", match: []string{"axb"}, nomatch: []string{"a/b", "ab"}},
		{name: "sh double star slash zero levels", pattern: "sh:a/**/b", match: []string{"a/b", "a/x/b", "a/x/y/b", "a/x/b/c"}, nomatch: []string{"a/xb", "b", "a/b2"}},
		{name: "sh double star slash at start", pattern: "sh:**/b", match: []string{"b", "a/b", "a/c/b/d"}, nomatch: []string{"ab", "a/bc"}},
		{name: "sh double star inside a name", pattern: "sh:a**/b", match: []string{"a/b", "ax/b", "ax/y/b"}, nomatch: []string{"b", "x/a/b"}},
		{name: "sh double star at end", pattern: "sh:a/b**", match: []string{"a/b", "a/bc", "a/bc/d"}, nomatch: []string{"a/cb"}},
		{name: "sh triple star", pattern: "sh:***/b", match: []string{"b", "xb", "x/b", "x/y/b"}, nomatch: []string{"bx", "x/c"}},
		{name: "sh dir star star is the dir too", pattern: "sh:home/**", match: []string{"home", "home/a", "home/a/b"}, nomatch: []string{"homes", "x/home"}},
		{name: "sh trailing slash", pattern: "sh:home/u/", match: []string{"home/u/a", "home/u/a/b"}, nomatch: []string{"home/u", "home/ux/a"}},
		{name: "sh star star trailing slash", pattern: "sh:a**/", match: []string{"a", "a/x", "ab/x"}, nomatch: []string{"b", "x/a"}},
		{name: "fm trailing slash star", pattern: "fm:a/*/", match: []string{"a/b/c"}, nomatch: []string{"a/b", "a"}},
		{name: "re unanchored", pattern: "re:cache", match: []string{"cache", "home/u/.cache/x", "a/cachet"}, nomatch: []string{"cach"}},
		{name: "re anchored both", pattern: `re:^home/[^/]+$`, match: []string{"home/u", "/home/u"}, nomatch: []string{"home/u/x", "home"}},
		{name: "re leading slash stripped from path", pattern: "re:^/home", nomatch: []string{"/home", "home"}},
		{name: "re backslash Z", pattern: `re:\.o\Z`, match: []string{"a.o"}, nomatch: []string{"a.od"}},
		{name: "pp root", pattern: "pp:/", match: []string{"a", "a/b", ""}},
		{name: "pp dots cleaned", pattern: "pp:a/./b/../c", match: []string{"a/c", "a/c/d"}, nomatch: []string{"a/b"}},
		{name: "pf cleaned", pattern: "pf:/a//b/", match: []string{"a/b"}, nomatch: []string{"a/b/c", "a"}},
		{name: "fm root slash matches all", pattern: "fm:/", match: []string{"a", "a/b", ""}},
		{name: "sh root slash matches all", pattern: "sh:/", match: []string{"a", "a/b", ""}},
		{name: "fm cleaned dots", pattern: "fm:a/./b//c/../d", match: []string{"a/b/d", "a/b/d/e"}, nomatch: []string{"a/b/c/d"}},
		{name: "fm empty pattern is dot", pattern: "fm:", match: []string{".", "./x"}, nomatch: []string{"a", ""}},
		{name: "default style is fm", pattern: "a*", def: "", match: []string{"a/b"}},
		{name: "selector overrides default", pattern: "fm:a*", def: Shell, match: []string{"a/b"}},
		{name: "no selector without colon at 2", pattern: "a:b*", match: []string{"a:b/c", "a:bc"}},
		{name: "no selector with punctuation", pattern: "*.:x", match: []string{"a.:x"}},
	})
}

// TestBrackets covers bracket expressions and escapes. The fm: expectations
// were checked against CPython 3.11's fnmatch.translate.
func TestBrackets(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "range", pattern: "fm:[a-c]", match: []string{"a", "b", "c"}, nomatch: []string{"d", "-", "A"}},
		{name: "negated", pattern: "fm:x[!a-c]", match: []string{"xd", "x/", "xé"}, nomatch: []string{"xa", "xc"}},
		{name: "caret is literal", pattern: "fm:[^a]", match: []string{"^", "a"}, nomatch: []string{"b"}},
		{name: "leading bracket literal", pattern: "fm:[]a]", match: []string{"]", "a"}, nomatch: []string{"b"}},
		{name: "negated leading bracket", pattern: "fm:[!]a]", match: []string{"b"}, nomatch: []string{"]", "a"}},
		{name: "unclosed is literal", pattern: "fm:a[b", match: []string{"a[b", "a[b/c"}, nomatch: []string{"ab"}},
		{name: "empty brackets literal", pattern: "fm:[]", match: []string{"[]"}, nomatch: []string{"["}},
		{name: "dash first", pattern: "fm:[-a]", match: []string{"-", "a"}, nomatch: []string{"b"}},
		{name: "dash last", pattern: "fm:[a-]", match: []string{"-", "a"}, nomatch: []string{"b"}},
		{name: "range then dash literal", pattern: "fm:[a-c-e]", match: []string{"a", "b", "-", "e"}, nomatch: []string{"d"}},
		{name: "dash range", pattern: "fm:x[--0]", match: []string{"x-", "x.", "x/", "x0"}, nomatch: []string{"x1"}},
		{name: "fm reversed range never matches", pattern: "fm:[z-a]", nomatch: []string{"z", "a", "m", "-"}},
		{name: "fm negated reversed range any", pattern: "fm:x[!z-a]", match: []string{"xz", "xa", "x/"}, nomatch: []string{"x"}},
		{name: "fm reversed range dropped", pattern: "fm:[c-a-e]", match: []string{"-", "e"}, nomatch: []string{"a", "b", "c"}},
		{name: "fm reversed to dash", pattern: "fm:[a--]", nomatch: []string{"a", "-"}},
		{name: "fm CPython quirk exposed bang", pattern: "fm:[c-a!b]", match: []string{"x", "!"}, nomatch: []string{"b"}},
		{name: "backslash is literal", pattern: `fm:a\*`, match: []string{`a\x`, `a\`}, nomatch: []string{"a*", "ax"}},
		{name: "backslash in class", pattern: `fm:[\]`, match: []string{`\`}, nomatch: []string{"]"}},
		{name: "star in brackets literal", pattern: "fm:a[*]", match: []string{"a*"}, nomatch: []string{"ab"}},
		{name: "fm class matches slash", pattern: "fm:a[/]b", match: []string{"a/b"}},
		{name: "sh class matches slash", pattern: "sh:a[/]b", match: []string{"a/b"}},
		{name: "sh negated class", pattern: "sh:[!.]*", match: []string{"a", "ab/c"}, nomatch: []string{".a"}},
		{name: "non-ascii range", pattern: "fm:[à-ï]x", match: []string{"àx", "éx", "ïx"}, nomatch: []string{"ax", "ðx"}},
		{name: "question is one character", pattern: "fm:?", match: []string{"é", "a", "中"}, nomatch: []string{"ab", ""}},
		{name: "brace is literal", pattern: "sh:{a,b}", match: []string{"{a,b}"}, nomatch: []string{"a", "b"}},
	})
}

// TestInvalidUTF8 checks that raw bytes are matched deterministically: each
// byte of an invalid sequence is one character, distinct from every valid one.
func TestInvalidUTF8(t *testing.T) {
	runMatchCases(t, []matchCase{
		{name: "literal invalid byte", pattern: "fm:a\xffb", match: []string{"a\xffb", "a\xffb/c"}, nomatch: []string{"a\xfeb", "a\uFFFDb", "ab"}},
		{name: "question mark one invalid byte", pattern: "fm:a?b", match: []string{"a\xffb", "a\x80b", "aéb"}, nomatch: []string{"a\xff\xffb"}},
		{name: "two invalid bytes two characters", pattern: "sh:a??b", match: []string{"a\xe2\x82b"}, nomatch: []string{"a\xe2\x82\xacb"}},
		{name: "star over invalid", pattern: "sh:*.tmp", match: []string{"\xff\xfe.tmp", "\xc3.tmp/x"}, nomatch: []string{"d/\xff.tmp"}},
		{name: "truncated sequence is not a prefix of a rune", pattern: "fm:\xc3*", match: []string{"\xc3x", "\xc3"}, nomatch: []string{"é", "éx"}},
		{name: "negated class matches invalid", pattern: "fm:[!a]", match: []string{"\xff"}, nomatch: []string{"a"}},
		{name: "class range over escapes", pattern: "fm:[\x80-\xff]", match: []string{"\x80", "\xc3", "\xff"}, nomatch: []string{"a", "é"}},
		{name: "replacement char is not an invalid byte", pattern: "fm:\uFFFD", match: []string{"\uFFFD"}, nomatch: []string{"\xff"}},
		{name: "re dot matches invalid byte", pattern: "re:^a.b$", match: []string{"a\xffb", "aéb"}, nomatch: []string{"a\xff\xffb"}},
		{name: "pp invalid", pattern: "pp:d\xff", match: []string{"d\xff", "d\xff/x"}, nomatch: []string{"d\xfe"}},
		{name: "pf invalid", pattern: "pf:d\xff", match: []string{"d\xff"}, nomatch: []string{"d\xff/x"}},
	})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		pattern string
		def     Style
		want    error
	}{
		{"xx:foo", "", ErrUnknownStyle},
		{"FM:foo", "", ErrUnknownStyle},
		{"12:foo", "", ErrUnknownStyle},
		{"éa:foo", "", ErrUnknownStyle},
		{"foo", "zz", ErrUnknownStyle},
		{"re:(", "", ErrBadPattern},
		{"re:a(?=b)", "", ErrBadPattern},
		{`re:(a)\1`, "", ErrBadPattern},
		{"re:(?x)a b", "", ErrBadPattern},
		{"re:\xff", "", ErrBadPattern},
		{"sh:[z-a]", "", ErrBadPattern},
		{"[z-a]", Shell, ErrBadPattern},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			p, err := Parse(tc.pattern, tc.def)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) = %v, %v; want error %v", tc.pattern, p, err, tc.want)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tc.pattern)) {
				t.Errorf("error %q does not name the pattern", err)
			}
		})
	}
	// fm: never fails, whatever the brackets look like.
	for _, s := range []string{"fm:[z-a]", "fm:[", "fm:[!", "fm:]", "fm:[[]", "fm:\xff[\xfe-\x80]"} {
		if _, err := Parse(s, ""); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{"*.o", "sh:**/x", `re:^a\.b(?i)$`, "pp:/a/b/", "pf:x", "fm:aa:b", "home/*/junk/"} {
		t.Run(s, func(t *testing.T) {
			p := mustParse(t, s, Fnmatch)
			q := mustParse(t, p.String(), Shell)
			if p.String() != q.String() || p.Style() != q.Style() {
				t.Fatalf("round trip %q -> %q -> %q", s, p, q)
			}
		})
	}
	if got := mustParse(t, "home/*", "").String(); got != "fm:home/*" {
		t.Errorf("String() = %q, want fm:home/*", got)
	}
	var zero Pattern
	if zero.Match("a") || zero.String() != "" {
		t.Error("zero Pattern matches or has a name")
	}
	var nilp *Pattern
	if nilp.Match("a") || nilp.String() != "" {
		t.Error("nil Pattern matches or has a name")
	}
}

func TestLongPattern(t *testing.T) {
	// More than 64 NFA nodes takes the multi-word path.
	seg := strings.Repeat("a*", 40)
	p := mustParse(t, "sh:x/"+seg+"/y", "")
	if !p.Match("x/" + strings.Repeat("a", 40) + "/y/z") {
		t.Error("long sh pattern does not match")
	}
	if p.Match("x/" + strings.Repeat("a", 39) + "/y") {
		t.Error("long sh pattern matches too few a's")
	}
	q := mustParse(t, "fm:"+strings.Repeat("?", 100)+"*", "")
	if !q.Match(strings.Repeat("b", 150)) || q.Match(strings.Repeat("b", 99)) {
		t.Error("long fm pattern")
	}
	// Pathological backtracking patterns stay linear.
	r := mustParse(t, "fm:"+strings.Repeat("*a", 30)+"b", "")
	if r.Match(strings.Repeat("a", 5000)) {
		t.Error("pathological pattern matched")
	}
}
