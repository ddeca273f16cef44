package pattern

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// Style is a pattern style, named by borg's two-letter selector.
type Style string

// The pattern styles. See the package documentation for their semantics.
const (
	Fnmatch    Style = "fm" // fnmatch: '*' crosses '/'; default for --exclude
	Shell      Style = "sh" // shell: '*' stays within a name, "**/" spans levels; default for --patterns-from
	Regex      Style = "re" // regular expression, unanchored
	PathPrefix Style = "pp" // the path and everything below it; default for extract PATH arguments
	PathFull   Style = "pf" // exactly the path
)

// Errors returned (wrapped, with the offending pattern or line) by this package.
var (
	// ErrUnknownStyle means a style selector or style name is not one of
	// fm, sh, re, pp or pf.
	ErrUnknownStyle = errors.New("unknown pattern style")
	// ErrBadPattern means a pattern does not compile: an invalid regular
	// expression, or a reversed range such as "[z-a]" in an sh: pattern.
	ErrBadPattern = errors.New("invalid pattern")
	// ErrBadLine means a pattern-file line is not a valid command.
	ErrBadLine = errors.New("invalid pattern file line")
)

// ParseStyle returns the Style named s ("fm", "sh", "re", "pp" or "pf"), or an
// error wrapping ErrUnknownStyle.
func ParseStyle(s string) (Style, error) {
	switch st := Style(s); st {
	case Fnmatch, Shell, Regex, PathPrefix, PathFull:
		return st, nil
	}
	return "", fmt.Errorf("%w %q (want fm, sh, re, pp or pf)", ErrUnknownStyle, s)
}

// Pattern is a compiled path pattern. It is immutable and safe for concurrent
// use. The zero value matches nothing.
type Pattern struct {
	style Style
	text  string         // pattern text without the style selector
	g     *glob          // fm:, sh:
	re    *regexp.Regexp // re:
	lit   string         // pp: cleaned prefix ending in '/' (or ""); pf: cleaned path
}

// Parse compiles s. If s starts with two letters or digits and a colon, those
// select the style ("sh:**/*.tmp", "re:^home/.*\.cache$"); otherwise
// defaultStyle applies, and an empty defaultStyle means Fnmatch, borg's
// default for --exclude. Use PathPrefix for extract's PATH arguments.
//
// Parse fails with an error wrapping ErrUnknownStyle for an unknown selector
// or defaultStyle, and ErrBadPattern for a regular expression that does not
// compile or an sh: bracket expression with a reversed range. An fm: pattern
// never fails: as in Python's fnmatch, an unclosed '[' is literal and reversed
// ranges are ignored. The empty pattern is valid; like borg, fm: and sh: then
// match only "." and what is below it.
func Parse(s string, defaultStyle Style) (*Pattern, error) {
	if defaultStyle == "" {
		defaultStyle = Fnmatch
	}
	style, text, err := splitStyle(s, defaultStyle)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", s, err)
	}
	p := &Pattern{style: style, text: text}
	switch style {
	case Fnmatch, Shell:
		p.g, err = compileGlob(prepareGlob(text, style == Shell), style == Shell)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w: %w", s, ErrBadPattern, err)
		}
	case Regex:
		p.re, err = regexp.Compile(adaptRegex(text))
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w: %w", s, ErrBadPattern, err)
		}
	case PathPrefix:
		p.lit = strings.TrimLeft(strings.TrimRight(path.Clean(text), "/")+"/", "/")
	case PathFull:
		p.lit = strings.TrimLeft(path.Clean(text), "/")
	}
	return p, nil
}

// splitStyle separates a style selector from the pattern text. As in borg, a
// selector is two alphanumeric characters followed by ':'; an unknown one is
// an error rather than part of the pattern (write "fm:aa:x" to match "aa:x").
func splitStyle(s string, def Style) (Style, string, error) {
	if _, err := ParseStyle(string(def)); err != nil {
		return "", "", fmt.Errorf("default style: %w", err)
	}
	r1, w1 := firstRune(s)
	r2, w2 := firstRune(s[w1:])
	n := w1 + w2
	if w1 == 0 || w2 == 0 || n >= len(s) || s[n] != ':' || !isAlnum(r1) || !isAlnum(r2) {
		return def, s, nil
	}
	st, err := ParseStyle(s[:n])
	if err != nil {
		return "", "", err
	}
	return st, s[n+1:], nil
}

func firstRune(s string) (rune, int) {
	if s == "" {
		return 0, 0
	}
	return decodeRune(s)
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// prepareGlob turns fm: or sh: pattern text into the pattern borg matches
// against path+"/": cleaned, with "/*" (fm:) or "/**/*" (sh:) appended so that
// everything below a matching directory matches too, or "/*/" ("/**/*/") if
// the text ends in '/' so that only what is below the directory matches, and
// leading slashes removed.
func prepareGlob(text string, shell bool) string {
	suffix := "/*"
	if shell {
		suffix = "/**/*"
	}
	var s string
	if strings.HasSuffix(text, "/") {
		s = strings.TrimRight(path.Clean(text), "/") + suffix + "/"
	} else {
		s = path.Clean(text) + suffix
	}
	return strings.TrimLeft(s, "/")
}

// Match reports whether p matches path, an archive path such as
// "home/alice/.cache/x". Leading slashes of path are ignored. A nil or zero
// Pattern matches nothing.
func (p *Pattern) Match(path string) bool {
	if p == nil {
		return false
	}
	return p.match(strings.TrimLeft(path, "/"))
}

// match is Match for a path without leading slashes.
func (p *Pattern) match(path string) bool {
	switch p.style {
	case Fnmatch, Shell:
		return p.g.match(path)
	case Regex:
		return p.re.MatchString(path)
	case PathPrefix:
		return p.lit == "" || strings.HasPrefix(path, p.lit) || path == p.lit[:len(p.lit)-1]
	case PathFull:
		return path == p.lit
	}
	return false
}

// Style returns the pattern's style.
func (p *Pattern) Style() Style { return p.style }

// String returns the pattern with an explicit style selector, e.g.
// "fm:home/*/junk"; Parse(p.String(), anyStyle) yields an equivalent pattern.
func (p *Pattern) String() string {
	if p == nil || p.style == "" {
		return ""
	}
	return string(p.style) + ":" + p.text
}
