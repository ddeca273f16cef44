package pattern

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// Action is what a Rule does with a path its pattern matches.
type Action int

// The rule actions, written "+", "-" and "!" in pattern files.
const (
	// Include keeps the path. It is the zero Action, so a Rule with no
	// Action never loses data.
	Include Action = iota
	// Exclude drops the path; for a directory, the walker still descends so
	// that later Include rules can match what is inside.
	Exclude
	// ExcludeNoRecurse drops the path and, for a directory, everything below
	// it without looking (borg's "!" and --exclude).
	ExcludeNoRecurse
)

// String returns the pattern-file prefix of a: "+", "-" or "!".
func (a Action) String() string {
	switch a {
	case Include:
		return "+"
	case Exclude:
		return "-"
	case ExcludeNoRecurse:
		return "!"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Rule pairs a pattern with an action.
type Rule struct {
	Action  Action
	Pattern *Pattern
}

// String returns the rule in pattern-file syntax, e.g. "- fm:home/*/junk".
func (r Rule) String() string { return r.Action.String() + " " + r.Pattern.String() }

// ParseExclude parses the argument of --exclude: a pattern whose default
// style is fm:, as an ExcludeNoRecurse rule (borg does not descend into
// directories excluded this way). Errors are those of Parse.
func ParseExclude(s string) (Rule, error) {
	p, err := Parse(s, Fnmatch)
	if err != nil {
		return Rule{}, err
	}
	return Rule{Action: ExcludeNoRecurse, Pattern: p}, nil
}

// Matcher decides which paths a rule list excludes. Rules are tried in the
// order added and the first whose pattern matches decides, except that pf:
// rules are looked up first, in a hash table, regardless of their position
// (borg does the same; among pf: rules for the same path the last one added
// wins). A path no rule matches is kept unless SetDefaultExcluded(true).
//
// The zero value is an empty Matcher that excludes nothing. Add and
// SetDefaultExcluded must not run concurrently with other methods; Excluded,
// Empty and UnmatchedIncludes are safe for concurrent use.
type Matcher struct {
	rules       []matcherRule
	full        map[string]int // pf: pattern path -> index into rules
	defaultExcl bool
}

type matcherRule struct {
	Rule
	matched *atomic.Bool // set once the rule has decided a path
}

// NewMatcher returns a Matcher holding rules, in order.
func NewMatcher(rules ...Rule) *Matcher {
	m := &Matcher{}
	for _, r := range rules {
		m.Add(r)
	}
	return m
}

// Add appends r to the rule list. A rule with a nil or zero Pattern is
// ignored, since it could never match.
func (m *Matcher) Add(r Rule) {
	if r.Pattern == nil || r.Pattern.style == "" {
		return
	}
	m.rules = append(m.rules, matcherRule{Rule: r, matched: new(atomic.Bool)})
	if r.Pattern.style == PathFull {
		if m.full == nil {
			m.full = make(map[string]int)
		}
		m.full[r.Pattern.lit] = len(m.rules) - 1
	}
}

// SetDefaultExcluded sets the verdict for paths no rule matches. It is false
// by default; extract sets it when PATH arguments are given, so that only
// what they (as Include rules) match is restored.
func (m *Matcher) SetDefaultExcluded(excluded bool) { m.defaultExcl = excluded }

// Excluded reports whether path (an archive path; leading slashes are
// ignored) is excluded, and whether a walker should descend into it if it is
// a directory. recurse is false only when an ExcludeNoRecurse rule decided;
// an Exclude rule excludes the directory itself but lets later Include rules
// match its contents.
func (m *Matcher) Excluded(path string) (excluded bool, recurse bool) {
	path = strings.TrimLeft(path, "/")
	if i, ok := m.full[path]; ok {
		return m.rules[i].verdict()
	}
	for i := range m.rules {
		r := &m.rules[i]
		if r.Pattern.style != PathFull && r.Pattern.match(path) {
			return r.verdict()
		}
	}
	return m.defaultExcl, true
}

func (r *matcherRule) verdict() (excluded, recurse bool) {
	if !r.matched.Load() { // avoid cache-line ping-pong between walkers
		r.matched.Store(true)
	}
	switch r.Action {
	case Exclude:
		return true, true
	case ExcludeNoRecurse:
		return true, false
	}
	return false, true
}

// Empty reports whether the Matcher has no rules.
func (m *Matcher) Empty() bool { return len(m.rules) == 0 }

// UnmatchedIncludes returns the patterns of Include rules that have not
// decided any Excluded call yet, in rule order, for warnings such as borg's
// "Include pattern ... never matched".
func (m *Matcher) UnmatchedIncludes() []*Pattern {
	var out []*Pattern
	for i := range m.rules {
		if r := &m.rules[i]; r.Action != ExcludeNoRecurse && r.Action != Exclude && !r.matched.Load() {
			out = append(out, r.Pattern)
		}
	}
	return out
}
