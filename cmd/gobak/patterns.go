package main

import (
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gobak/gobak/pkg/pattern"
)

// selection holds the path selection flags of create and extract, as borg
// has them: --exclude and --pattern in command-line order, then the rules of
// every --patterns-from file, then those of every --exclude-from file. The
// first rule that matches a path decides.
type selection struct {
	args         []ruleArg
	patternsFrom []string
	excludeFrom  []string
}

// ruleArg is one --exclude or --pattern argument.
type ruleArg struct {
	pattern bool // --pattern (else --exclude)
	value   string
}

// ruleFlag is the pflag.Value of --exclude and --pattern: both append to
// one list, so that their relative order is kept.
type ruleFlag struct {
	list    *[]ruleArg
	pattern bool
}

func (f ruleFlag) String() string { return "" }
func (f ruleFlag) Type() string   { return "stringArray" }
func (f ruleFlag) Set(s string) error {
	*f.list = append(*f.list, ruleArg{pattern: f.pattern, value: s})
	return nil
}

// register adds the selection flags to fl; what names the paths matched
// ("paths" or "archive paths").
func (s *selection) register(fl *pflag.FlagSet, what string) {
	fl.VarP(ruleFlag{list: &s.args}, "exclude", "e", "leave out "+what+" matching `PATTERN` (fm: style by default; repeatable)")
	fl.StringArrayVar(&s.excludeFrom, "exclude-from", nil, "read exclude patterns from `FILE`, one per line")
	fl.Var(ruleFlag{list: &s.args, pattern: true}, "pattern", "a borg pattern rule: `RULE` is '+ PATTERN' (include), '- PATTERN' (exclude), '! PATTERN' (exclude without descending) or 'R PATH' (a root; create only); sh: style by default; repeatable, first match wins")
	fl.StringArrayVar(&s.patternsFrom, "patterns-from", nil, "read --pattern rules (and 'P STYLE' lines) from `FILE`, one per line")
}

// matcher builds the rules, nil if there are none, and returns the roots
// ('R PATH') that --pattern and --patterns-from name, in order.
func (s *selection) matcher() (*pattern.Matcher, []string, error) {
	var rules []pattern.Rule
	var roots []string
	for _, arg := range s.args {
		if !arg.pattern {
			r, err := pattern.ParseExclude(arg.value)
			if err != nil {
				return nil, nil, usagef("--exclude %q: %v", arg.value, err)
			}
			rules = append(rules, r)
			continue
		}
		rs, rts, err := pattern.ParseFile(strings.NewReader(arg.value), pattern.Shell)
		if err != nil {
			return nil, nil, usagef("--pattern %q: %v", arg.value, err)
		}
		if len(rs)+len(rts) == 0 {
			return nil, nil, usagef("--pattern %q: no rule (write '+ PATTERN', '- PATTERN', '! PATTERN' or 'R PATH')", arg.value)
		}
		rules, roots = append(rules, rs...), append(roots, rts...)
	}
	for _, name := range s.patternsFrom {
		file, err := os.Open(name)
		if err != nil {
			return nil, nil, usagef("--patterns-from: %v", err)
		}
		rs, rts, err := pattern.ParseFile(file, pattern.Shell)
		file.Close()
		if err != nil {
			return nil, nil, usagef("--patterns-from %s: %v", name, err)
		}
		rules, roots = append(rules, rs...), append(roots, rts...)
	}
	for _, name := range s.excludeFrom {
		file, err := os.Open(name)
		if err != nil {
			return nil, nil, usagef("--exclude-from: %v", err)
		}
		rs, err := pattern.ParseExcludeFile(file)
		file.Close()
		if err != nil {
			return nil, nil, usagef("--exclude-from %s: %v", name, err)
		}
		rules = append(rules, rs...)
	}
	if len(rules) == 0 {
		return nil, roots, nil
	}
	return pattern.NewMatcher(rules...), roots, nil
}
