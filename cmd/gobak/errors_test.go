package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gobak/gobak/pkg/repo"
)

func TestTidy(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"/r: unsupported repository format version: unsupported repository format version: 2 (this gobak reads version 1)",
			"/r: unsupported repository format version: 2 (this gobak reads version 1)"},
		{"/r: not a gobak repository: not a gobak repository config: format field is \"x\"",
			"/r: not a gobak repository config: format field is \"x\""},
		{"/r: no usable key file: none found; restore one with 'gobak key import': no usable key file",
			"/r: no usable key file: none found; restore one with 'gobak key import'"},
		{"a: b: c", "a: b: c"},
	}
	for _, tt := range tests {
		if got := tidy(tt.in); got != tt.want {
			t.Errorf("tidy(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	const loc = "/srv/repo"
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"wrong passphrase", repoError(loc, fmt.Errorf("%s: %w", loc, repo.ErrWrongPassphrase)),
			"repository /srv/repo: wrong passphrase"},
		{"not a repository", repoError(loc, fmt.Errorf("%s: %w (no config file)", loc, repo.ErrNotRepository)),
			"/srv/repo is not a gobak repository (no config file); check the path or create a repository with 'gobak init'"},
		{"not a gobak config", repoError(loc, fmt.Errorf("%s: %w: not a gobak repository config: format field is \"x\"", loc, repo.ErrNotRepository)),
			"/srv/repo is not a gobak repository (format field is \"x\"); check the path or create a repository with 'gobak init'"},
		{"version", repoError(loc, fmt.Errorf("%s: %w: unsupported repository format version: 3 (this gobak reads version 1)", loc, repo.ErrUnsupportedVersion)),
			"repository /srv/repo: unsupported repository format version: 3 (this gobak reads version 1); upgrade gobak to a version that reads this repository format"},
		{"locked keeps its own hint", repoError(loc, fmt.Errorf("%s: %w: exclusive lock held by pid 7 on h; wait or run 'gobak break-lock'", loc, repo.ErrLocked)),
			"repository /srv/repo: repository is locked: exclusive lock held by pid 7 on h; wait or run 'gobak break-lock'"},
		{"locked without hint", repoError(loc, fmt.Errorf("%s: %w", loc, repo.ErrLocked)),
			"repository /srv/repo: repository is locked; wait for the other process to finish, or if no gobak process uses the repository, run 'gobak break-lock'"},
		{"explicit hint", withHint(errors.New("thing failed"), "do this"), "thing failed; do this"},
		{"multi-line", errors.Join(errors.New("one"), errors.New("two")), "one two"},
		{"canceled", repoError(loc, context.Canceled), "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorMessage(tt.err); got != tt.want {
				t.Errorf("errorMessage()\n = %q\nwant %q", got, tt.want)
			}
		})
	}
	// repoError keeps the sentinel in the chain.
	if err := repoError(loc, fmt.Errorf("%s: %w", loc, repo.ErrWrongPassphrase)); !errors.Is(err, repo.ErrWrongPassphrase) {
		t.Errorf("repoError lost the sentinel: %v", err)
	}
	if strings.Contains(errorMessage(repoError(loc, errors.New("x\ny"))), "\n") {
		t.Error("errorMessage returned several lines")
	}
}
