// Package pattern implements BorgBackup-compatible path patterns, as used by
// gobak's `create --exclude`, `--exclude-from`, `--pattern`, `--patterns-from`
// and the PATH and --exclude arguments of `extract` (see `borg help patterns`).
//
// # Paths
//
// Patterns are matched against archive paths: relative, '/'-separated, with no
// leading '/' ("home/alice/.cache/x"). Leading slashes are stripped from both
// paths and (except for re:) patterns, so "/home/*/junk" and "home/*/junk" are
// the same pattern. Paths are byte strings: nothing here requires valid UTF-8.
// fm: and sh: patterns compare code points the way borg (Python, with
// surrogate escapes) does: a valid UTF-8 sequence is one character and every
// byte of an invalid sequence is a character of its own, so '?' matches "é"
// (two bytes) as well as a lone 0xff byte.
//
// # Styles
//
// A pattern may start with a two-character style selector and a colon; without
// one the caller's default style applies.
//
//   - fm: (fnmatch; the default for --exclude and --exclude-from). '*' matches
//     any characters including '/', '?' one character, "[...]" one character of
//     a set with ranges, "[!...]" one character not in the set; wrap a
//     metacharacter in brackets ("[?]") to match it literally. A pattern matches
//     a path when it matches the whole path or the path up to just before a '/'
//     (so a directory pattern matches everything below it). A pattern ending in
//     '/' matches only what is below the directory, not the directory itself.
//   - sh: (shell style; the default for --pattern and --patterns-from). Like
//     fm:, but '*' and '?' never match '/', and "**/" matches zero or more
//     whole directory levels; "dir/**" matches dir and everything below it.
//   - re: a regular expression (Go RE2 syntax) searched anywhere in the path
//     unless anchored with '^' or '$'. For compatibility with borg pattern files,
//     Python-style global flag groups such as "(?i)" anywhere in the expression
//     apply to the whole expression, and `\Z` means end of text.
//   - pp: path prefix: matches the path and everything below it.
//   - pf: full path: matches exactly that path. As in borg, pf: rules in a
//     Matcher are looked up in a hash table before all other rules, so they do
//     not respect rule order.
//
// Pattern text is normalised the way borg normalises it (repeated slashes, "."
// and ".." components are cleaned lexically) before wildcards are considered.
//
// # Rules and pattern files
//
// A Matcher holds an ordered list of Include, Exclude and ExcludeNoRecurse
// rules; the first rule whose pattern matches decides. ParseFile reads the
// --patterns-from syntax ("R root", "P style", "+ pat", "- pat", "! pat"), and
// ParseExcludeFile the --exclude-from syntax (one pattern per line). In both,
// lines are stripped of surrounding white space and blank lines and lines
// starting with '#' are ignored.
//
// Differences from borg: brace alternatives ("{a,b}", borg 2 only) are not
// supported and match literally; regular expressions use Go's RE2, which has no
// look-around or back-references (such patterns fail to parse) and cannot
// contain invalid UTF-8; Unicode normalisation of macOS paths is not applied.
package pattern
