package pattern

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// refGlobRegexp is an independent rendering of a prepared fm: or sh: pattern
// (valid UTF-8) as a Go regexp, following how borg turns these patterns into
// Python regexps. For sh: bracket expressions Go's own class parser decides
// ranges (and rejects reversed ones), as Python's does for borg. The result
// must match path+"/" exactly when the pattern matches path.
func refGlobRegexp(s string, shell bool) (*regexp.Regexp, error) {
	rs := []rune(s)
	var b strings.Builder
	b.WriteString(`(?s)\A(?:`)
	for i := 0; i < len(rs); {
		c := rs[i]
		i++
		switch {
		case c == '*' && shell && i+1 < len(rs) && rs[i] == '*' && rs[i+1] == '/':
			b.WriteString(`(?:[^/]*/)*`)
			i += 2
		case c == '*' && shell:
			b.WriteString(`[^/]*`)
		case c == '*':
			b.WriteString(`.*`)
		case c == '?' && shell:
			b.WriteString(`[^/]`)
		case c == '?':
			b.WriteString(`.`)
		case c == '[':
			j := i
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				b.WriteString(`\[`)
				continue
			}
			body := rs[i:j]
			i = j + 1
			if shell {
				b.WriteString("[")
				if body[0] == '!' {
					b.WriteString("^")
					body = body[1:]
				}
				for _, r := range body {
					if r == '-' {
						b.WriteByte('-')
					} else {
						fmt.Fprintf(&b, `\x{%x}`, r)
					}
				}
				b.WriteString("]")
				continue
			}
			cls := fnmatchClass(body)
			switch {
			case len(cls.ranges) == 0 && cls.neg:
				b.WriteString(".")
			case len(cls.ranges) == 0:
				b.WriteString(`[^\x{0}-\x{10ffff}]`)
			default:
				b.WriteString("[")
				if cls.neg {
					b.WriteString("^")
				}
				for _, rg := range cls.ranges {
					fmt.Fprintf(&b, `\x{%x}-\x{%x}`, rg.lo, rg.hi)
				}
				b.WriteString("]")
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)\z`)
	return regexp.Compile(b.String())
}

func TestReferenceAgrees(t *testing.T) {
	// A few hand-picked cases through the same check the fuzzer runs.
	for _, c := range [][2]string{
		{"sh:a/**/b", "a/x/y/b"}, {"sh:a**/", "a"}, {"fm:[c-a!b]", "x"}, {"sh:[!]-a]x", "bx"},
		{"sh:[a-c-e]", "-"}, {"fm:*a*a*b", "aaaab/c"}, {"sh:home/**", "home"}, {"fm:/", ""},
	} {
		checkAgainstReference(t, c[0], c[1])
	}
}

// checkAgainstReference parses pattern with several default styles and checks
// that parsing and matching are consistent: no panics, String round-trips, and
// fm:/sh: results agree with refGlobRegexp on valid UTF-8.
func checkAgainstReference(t *testing.T, pattern, path string) {
	t.Helper()
	for _, def := range []Style{Fnmatch, Shell, PathPrefix} {
		p, err := Parse(pattern, def)
		st, text := def, pattern
		if err == nil {
			st, text = p.Style(), p.text
		} else if sel, rest, serr := splitStyle(pattern, def); serr == nil {
			st, text = sel, rest
		} else {
			continue // unknown selector
		}
		if err != nil && st != Shell && st != Regex {
			t.Fatalf("Parse(%q, %s): unexpected error %v", pattern, def, err)
		}
		var got bool
		if err == nil {
			got = p.Match(path)
			q, qerr := Parse(p.String(), Regex)
			if qerr != nil {
				t.Fatalf("re-parse %q: %v", p.String(), qerr)
			}
			if q.String() != p.String() || q.Match(path) != got {
				t.Fatalf("round trip of %q changed it to %q or its match of %q", pattern, q, path)
			}
		}
		if (st != Fnmatch && st != Shell) || !utf8.ValidString(text) || !utf8.ValidString(path) {
			continue
		}
		re, rerr := refGlobRegexp(prepareGlob(text, st == Shell), st == Shell)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Parse(%q, %s) error %v, reference error %v", pattern, def, err, rerr)
		}
		if err != nil {
			continue
		}
		if want := re.MatchString(strings.TrimLeft(path, "/") + "/"); got != want {
			t.Fatalf("%s matching %q = %v, reference %v (%s)", p, path, got, want, re)
		}
	}
}

func FuzzParseMatch(f *testing.F) {
	for _, c := range [][2]string{
		{"*.o", "home/user/file.o"},
		{"home/*/junk", "home/user/subdir/junk"},
		{"home/user/cache/", "home/user/cache/important"},
		{`re:^home/[^/]+\.tmp/`, "home/x.tmp/y"},
		{`re:\.jpe?g(?i)$`, "A.JPG"},
		{"sh:home/**/.*", "home/u/.bashrc"},
		{"sh:**/*.iso", "x.iso"},
		{"pp:root/somedir", "root/somedir/x"},
		{"pf:root/file.ext", "root/file.ext"},
		{"fm:[!a-c]x[--0]", "d/x-"},
		{"fm:[c-a!b]", "b"},
		{"sh:[z-a]", "m"},
		{"sh:a**/", "a"},
		{"fm:a\xffb*", "a\xffb\xfe"},
		{"sh:\xc3*", "é"},
		{"re:(?i)a(?s).", "A\n"},
		{"", ""},
		{"/", "/"},
		{"xx:junk", "junk"},
		{"[[[!]]]--**//??", "]]]//"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		checkAgainstReference(t, pattern, path)
	})
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("# c\nR /\nP fm\n- home/*/junk\n+ sh:home/**\n! re:^tmp\n"))
	f.Add([]byte("+pics/2018/good\r\n-pics/2018\r"))
	f.Add([]byte("*.tmp\nfm:aa:x/*\nre:[\n"))
	f.Add([]byte("P xx\n"))
	f.Add([]byte("\xff\x00\n \t\v#\n-\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, roots, err := ParseFile(bytes.NewReader(data), "")
		if err == nil {
			for _, r := range rules {
				q, err := Parse(r.Pattern.String(), Regex)
				if err != nil || q.String() != r.Pattern.String() {
					t.Fatalf("rule %v does not re-parse: %v", r, err)
				}
			}
			for _, root := range roots {
				if root == "" || trimSpace(root) != root {
					t.Fatalf("bad root %q", root)
				}
			}
			m := NewMatcher(rules...)
			m.Excluded("home/a/b")
			m.Excluded(string(data))
		}
		xrules, err := ParseExcludeFile(bytes.NewReader(data))
		if err == nil {
			for _, r := range xrules {
				if r.Action != ExcludeNoRecurse || r.Pattern == nil {
					t.Fatalf("exclude rule %v", r)
				}
			}
			NewMatcher(xrules...).Excluded(string(data))
		}
	})
}
