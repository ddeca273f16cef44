package pattern

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// ParseFile reads a borg --patterns-from file (also usable for a single
// --pattern argument). Each line is stripped of surrounding white space;
// blank lines and lines starting with '#' are skipped. Every other line is a
// command character, optional white space and a value:
//
//	R path     a recursion root (returned in roots, verbatim; "r" also works)
//	P style    the default style for the following lines (fm, sh, re, pp, pf; "p" also works)
//	+ pattern  an Include rule
//	- pattern  an Exclude rule (the walker still descends into excluded directories)
//	! pattern  an ExcludeNoRecurse rule
//
// The default style starts as defaultStyle, or Shell if that is empty (borg's
// default for pattern files). Rules are returned in file order; add them to a
// Matcher in that order, since the first matching rule wins.
//
// ParseFile stops at the first bad line and returns an error naming its line
// number and wrapping ErrBadLine (unknown command, missing value),
// ErrUnknownStyle or ErrBadPattern; read errors are returned wrapped.
func ParseFile(r io.Reader, defaultStyle Style) (rules []Rule, roots []string, err error) {
	if defaultStyle == "" {
		defaultStyle = Shell
	}
	style, err := ParseStyle(string(defaultStyle))
	if err != nil {
		return nil, nil, fmt.Errorf("pattern file: default style: %w", err)
	}
	err = eachLine(r, func(line string) error {
		cmd, val := line[0], trimSpace(line[1:])
		if !strings.ContainsRune("+-!RrPp", rune(cmd)) {
			return fmt.Errorf("%w: %q does not start with one of + - ! R P", ErrBadLine, line)
		}
		if val == "" {
			return fmt.Errorf("%w: %q has no value after %q", ErrBadLine, line, cmd)
		}
		switch cmd {
		case 'R', 'r':
			roots = append(roots, val)
			return nil
		case 'P', 'p':
			s, err := ParseStyle(val)
			if err != nil {
				return err
			}
			style = s
			return nil
		}
		p, err := Parse(val, style)
		if err != nil {
			return err
		}
		action := Include
		switch cmd {
		case '-':
			action = Exclude
		case '!':
			action = ExcludeNoRecurse
		}
		rules = append(rules, Rule{Action: action, Pattern: p})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return rules, roots, nil
}

// ParseExcludeFile reads a borg --exclude-from file: one pattern per line
// (default style fm:, selectors allowed), with surrounding white space
// stripped and blank lines and '#' comments skipped, so names with leading or
// trailing blanks can only be matched with re: patterns. Each pattern becomes
// an ExcludeNoRecurse rule, as for --exclude. Errors name the line and wrap
// those of Parse; read errors are returned wrapped.
func ParseExcludeFile(r io.Reader) ([]Rule, error) {
	var rules []Rule
	err := eachLine(r, func(line string) error {
		rule, err := ParseExclude(line)
		if err != nil {
			return err
		}
		rules = append(rules, rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rules, nil
}

// eachLine calls fn for every significant line of r: lines end at "\n",
// "\r\n" or "\r" (Python's universal newlines), are stripped of surrounding
// white space, and are skipped when empty or starting with '#'.
func eachLine(r io.Reader, fn func(line string) error) error {
	br := bufio.NewReader(r)
	n := 0
	for {
		chunk, rerr := br.ReadString('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return fmt.Errorf("read pattern file: %w", rerr)
		}
		chunk = strings.TrimSuffix(strings.TrimSuffix(chunk, "\n"), "\r")
		for _, line := range strings.Split(chunk, "\r") {
			n++
			line = trimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			if err := fn(line); err != nil {
				return fmt.Errorf("pattern file line %d: %w", n, err)
			}
		}
		if rerr != nil {
			return nil
		}
	}
}

// trimSpace strips what Python's str.strip strips: Unicode white space and
// the separators U+001C..U+001F.
func trimSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}
