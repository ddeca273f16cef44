package pattern

import "strings"

// adaptRegex rewrites the Python-isms that borg pattern files commonly use into
// Go RE2 syntax:
//
//   - A global inline flag group such as "(?i)" applies to the whole expression
//     in Python wherever it appears (borg's documentation writes
//     `re:\.jpe?g(?i)$`), but only to what follows it in Go. Flag groups made
//     of the letters i, m, s and u are therefore hoisted to the front ('u' is
//     Python 3's default and is dropped). Other letters (a, L, x) are left in
//     place and make Go's compiler reject the pattern.
//   - `\Z` (end of text in Python) becomes `\z`.
//
// Everything else is passed through unchanged. Character classes are skipped
// so that "[(?i)]" stays a set of characters.
func adaptRegex(s string) string {
	var out strings.Builder
	var flags [3]bool // i, m, s
	hoist := false
	inClass, classStart := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			if !inClass && s[i+1] == 'Z' {
				out.WriteString(`\z`)
			} else {
				out.WriteByte(c)
				out.WriteByte(s[i+1])
			}
			i++
			classStart = false
		case inClass:
			if c == ']' && !classStart {
				inClass = false
			}
			classStart = false
			out.WriteByte(c)
		case c == '[':
			inClass, classStart = true, true
			out.WriteByte(c)
			if i+1 < len(s) && s[i+1] == '^' {
				out.WriteByte('^')
				i++
			}
		case c == '(' && strings.HasPrefix(s[i+1:], "?"):
			if n, f, ok := flagGroup(s[i+2:]); ok {
				for k := range flags {
					flags[k] = flags[k] || f[k]
				}
				hoist = true
				i += 2 + n // skip "(?", the letters and ")"
				continue
			}
			out.WriteByte(c)
		default:
			out.WriteByte(c)
		}
	}
	if !hoist {
		return out.String()
	}
	prefix := ""
	for k, l := range "ims" {
		if flags[k] {
			prefix += string(l)
		}
	}
	if prefix == "" {
		return out.String()
	}
	return "(?" + prefix + ")" + out.String()
}

// flagGroup recognises the letters and ')' of a Python global flag group
// "(?imsu)" at the start of s. It returns the number of bytes consumed
// excluding the closing ')' (so the caller skips n+1 after "(?"), which of
// i, m, s were set, and whether s starts with such a group.
func flagGroup(s string) (int, [3]bool, bool) {
	var f [3]bool
	n := 0
	for n < len(s) {
		switch s[n] {
		case 'i':
			f[0] = true
		case 'm':
			f[1] = true
		case 's':
			f[2] = true
		case 'u':
		case ')':
			if n == 0 {
				return 0, f, false
			}
			return n, f, true
		default:
			return 0, f, false
		}
		n++
	}
	return 0, f, false
}
