package main

import (
	"os"

	"github.com/gobak/gobak/pkg/pattern"
)

// excludeMatcher builds the exclusion rules of --exclude and
// --exclude-from (borg's fm: style by default), nil if there are none.
func excludeMatcher(excludes, files []string) (*pattern.Matcher, error) {
	var rules []pattern.Rule
	for _, e := range excludes {
		r, err := pattern.ParseExclude(e)
		if err != nil {
			return nil, usagef("--exclude %q: %v", e, err)
		}
		rules = append(rules, r)
	}
	for _, name := range files {
		file, err := os.Open(name)
		if err != nil {
			return nil, usagef("--exclude-from: %v", err)
		}
		rs, err := pattern.ParseExcludeFile(file)
		file.Close()
		if err != nil {
			return nil, usagef("--exclude-from %s: %v", name, err)
		}
		rules = append(rules, rs...)
	}
	if len(rules) == 0 {
		return nil, nil
	}
	return pattern.NewMatcher(rules...), nil
}
