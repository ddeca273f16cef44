package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// inUTC is the environment of the retention tests: test passphrase, UTC.
var inUTC = append([]string{"TZ=UTC"}, withPass...)

// createAt creates one tiny archive per name, with the time given.
func (c *cli) createAt(repoPath string, archives map[string]string) {
	c.t.Helper()
	src := c.path("src")
	writeFiles(c.t, src, map[string]string{"f": "retention test data\n"})
	names := make([]string, 0, len(archives))
	for n := range archives {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c.ok(inUTC, "create", "--timestamp", archives[n], repoPath+"::"+n, src)
	}
}

// archiveNames lists the repository's archive names, sorted.
func (c *cli) archiveNames(repoPath string) []string {
	c.t.Helper()
	out := strings.Fields(c.ok(inUTC, "list", "--short", repoPath).stdout)
	slices.Sort(out)
	return out
}

func checkNames(t *testing.T, got []string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("archives %q, want %q", got, want)
	}
}

// pruneSeries is a month-spanning series (TZ=UTC) and another series.
var pruneSeries = map[string]string{
	"a-0101": "2024-01-01T03:00:00", "a-0131": "2024-01-31T03:00:00",
	"a-0229": "2024-02-29T03:00:00", "a-0303": "2024-03-03T03:00:00",
	"a-0310": "2024-03-10T03:00:00", "a-0324": "2024-03-24T03:00:00",
	"a-0329": "2024-03-29T03:00:00", "a-0330": "2024-03-30T03:00:00",
	"a-0331": "2024-03-31T03:00:00",
	"b-0101": "2024-01-01T04:00:00", "b-0102": "2024-01-02T04:00:00",
}

func TestPrune(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	c.createAt(path, pruneSeries)
	rules := []string{"--keep-daily", "2", "--keep-weekly", "2", "--keep-monthly", "2", "--glob-archives", "a-*"}

	// Dry run with --list: every a-* archive, newest first, borg's lines.
	r := c.ok(inUTC, append(append([]string{"prune", "--dry-run", "--list"}, rules...), path)...)
	want := []struct{ msg, name, day string }{
		{"Keeping archive (rule: daily #1):", "a-0331", "Sun, 2024-03-31 03:00:00"},
		{"Keeping archive (rule: daily #2):", "a-0330", "Sat, 2024-03-30 03:00:00"},
		{"Would prune:", "a-0329", "Fri, 2024-03-29 03:00:00"},
		{"Keeping archive (rule: weekly #1):", "a-0324", "Sun, 2024-03-24 03:00:00"},
		{"Keeping archive (rule: weekly #2):", "a-0310", "Sun, 2024-03-10 03:00:00"},
		{"Would prune:", "a-0303", "Sun, 2024-03-03 03:00:00"},
		{"Keeping archive (rule: monthly #1):", "a-0229", "Thu, 2024-02-29 03:00:00"},
		{"Keeping archive (rule: monthly #2):", "a-0131", "Wed, 2024-01-31 03:00:00"},
		{"Would prune:", "a-0101", "Mon, 2024-01-01 03:00:00"},
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(want)+1 {
		t.Fatalf("want %d lines:\n%s", len(want)+1, r)
	}
	for i, w := range want {
		re := regexp.MustCompile("^" + regexp.QuoteMeta(w.msg) + ` +` + w.name + ` +` + regexp.QuoteMeta(w.day) + ` \[[0-9a-f]{64}\]$`)
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s %s %s [id]", i, lines[i], w.msg, w.name, w.day)
		}
		if len(lines[i]) < 41 || lines[i][40] != ' ' || lines[i][41] != 'a' {
			t.Errorf("line %d: message not padded to 40 columns: %q", i, lines[i])
		}
	}
	if !strings.Contains(lines[len(want)], "Would prune 3 archives") {
		t.Errorf("summary %q", lines[len(want)])
	}
	all := []string{"a-0101", "a-0131", "a-0229", "a-0303", "a-0310", "a-0324", "a-0329", "a-0330", "a-0331", "b-0101", "b-0102"}
	checkNames(t, c.archiveNames(path), all...)

	// JSON dry run.
	r = c.ok(inUTC, append(append([]string{"prune", "--dry-run", "--json"}, rules...), path)...)
	var js struct {
		DryRun   bool `json:"dry_run"`
		Archives []struct {
			Name, ID, Time, Rule string
			Kept                 bool
			N                    int
		} `json:"archives"`
		Kept, Pruned int
	}
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
		t.Fatalf("prune --json: %v\n%s", err, r)
	}
	if !js.DryRun || js.Kept != 6 || js.Pruned != 3 || len(js.Archives) != 9 {
		t.Errorf("prune --json summary: %+v", js)
	}
	if a := js.Archives[3]; a.Name != "a-0324" || !a.Kept || a.Rule != "weekly" || a.N != 1 || len(a.ID) != 64 || !strings.HasPrefix(a.Time, "2024-03-24T03:00:00") {
		t.Errorf("prune --json archive 3: %+v", a)
	}
	if a := js.Archives[8]; a.Name != "a-0101" || a.Kept || a.Rule != "" {
		t.Errorf("prune --json archive 8: %+v", a)
	}

	// For real; b-* is untouched thanks to the glob.
	r = c.ok(inUTC, append(append([]string{"prune", "--list", "--stats"}, rules...), path)...)
	for _, w := range []string{"Pruning archive (1/3):", "Pruning archive (3/3):", "a-0329", "Pruned 3 archives", "gobak compact", "Kept 6 archives"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("prune output lacks %q:\n%s", w, r)
		}
	}
	checkNames(t, c.archiveNames(path), "a-0131", "a-0229", "a-0310", "a-0324", "a-0330", "a-0331", "b-0101", "b-0102")

	// A second run prunes nothing more: the result is stable.
	r = c.ok(inUTC, append(append([]string{"prune"}, rules...), path)...)
	if !strings.Contains(r.stdout, "Pruned 0 archives") {
		t.Errorf("second prune:\n%s", r)
	}
	// The remaining archives still extract.
	c.ok(inUTC, "extract", "--dry-run", path+"::a-0131")

	// --keep-last 1 without a glob keeps only the newest archive.
	c.ok(inUTC, "prune", "--keep-last", "1", path)
	checkNames(t, c.archiveNames(path), "a-0331")
}

func TestPruneRefuses(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	c.createAt(path, map[string]string{"x": "2024-01-01T00:00:00"})
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no rule", []string{"prune", path}, []string{"at least one of --keep-within"}},
		{"zero counts", []string{"prune", "--keep-daily", "0", "--dry-run", path}, []string{"at least one"}},
		{"bad interval", []string{"prune", "--keep-within", "3x", path}, []string{"--keep-within", "H, d, w, m, y"}},
		{"zero interval", []string{"prune", "--keep-within", "0d", path}, []string{"--keep-within"}},
		{"last and secondly", []string{"prune", "--keep-last", "1", "--keep-secondly", "2", path}, []string{"same rule"}},
		{"archive given", []string{"prune", "--keep-daily", "1", path + "::x"}, []string{"names an archive"}},
		{"bad glob", []string{"prune", "--keep-daily", "1", "--glob-archives", "[", path}, []string{"glob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.with(t).fails(inUTC, tt.want, tt.args...)
		})
	}
	checkNames(t, c.archiveNames(path), "x")
}

func TestPruneKeepWithin(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	now := time.Now().UTC()
	c.createAt(path, map[string]string{
		"recent": now.Add(-2 * time.Hour).Format(time.RFC3339),
		"old":    now.Add(-50 * time.Hour).Format(time.RFC3339),
	})
	r := c.ok(inUTC, "prune", "--list", "--keep-within", "1d", path)
	if !strings.Contains(r.stdout, "Keeping archive (rule: within #1):") {
		t.Errorf("prune --keep-within:\n%s", r)
	}
	checkNames(t, c.archiveNames(path), "recent")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	c.createAt(path, map[string]string{
		"one": "2024-01-01T00:00:00", "two": "2024-01-02T00:00:00", "three": "2024-01-03T00:00:00",
		"test-1": "2024-01-04T00:00:00", "test-2": "2024-01-05T00:00:00", "keep": "2024-01-06T00:00:00",
	})

	r := c.ok(inUTC, "delete", "--dry-run", "--list", path+"::one")
	if !strings.Contains(r.stdout, "Would delete archive:") || !strings.Contains(r.stdout, "one") {
		t.Errorf("delete --dry-run --list:\n%s", r)
	}
	checkNames(t, c.archiveNames(path), "keep", "one", "test-1", "test-2", "three", "two")

	r = c.ok(inUTC, "delete", "--list", path+"::one")
	for _, w := range []string{"Deleting archive:", "Deleted 1 archive.", "gobak compact"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("delete output lacks %q:\n%s", w, r)
		}
	}
	c.ok(inUTC, "delete", path+"::two", "three")
	checkNames(t, c.archiveNames(path), "keep", "test-1", "test-2")

	r = c.ok(inUTC, "delete", "--glob-archives", "test-*", path)
	if !strings.Contains(r.stdout, "Deleted 2 archives") {
		t.Errorf("delete --glob-archives:\n%s", r)
	}
	checkNames(t, c.archiveNames(path), "keep")

	// A missing name is a warning (exit 1); the others are deleted.
	r = c.run(inUTC, "delete", path+"::nope")
	if r.code != exitWarning || !strings.Contains(r.stderr, `"nope"`) {
		t.Errorf("delete of a missing archive: want exit 1 naming it:\n%s", r)
	}
	c.fails(inUTC, []string{"name the archives"}, "delete", path)
	c.fails(inUTC, []string{"not both"}, "delete", "--glob-archives", "*", path+"::keep")
	checkNames(t, c.archiveNames(path), "keep")
	c.ok(inUTC, "extract", "--dry-run", path+"::keep")
}

func TestRename(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	c.createAt(path, map[string]string{"old": "2024-01-01T00:00:00", "other": "2024-01-02T00:00:00"})
	before := c.ok(inUTC, "list", "--format", "{path} {size}{NL}", path+"::old").stdout

	c.ok(inUTC, "rename", path+"::old", "new")
	checkNames(t, c.archiveNames(path), "new", "other")
	if after := c.ok(inUTC, "list", "--format", "{path} {size}{NL}", path+"::new").stdout; after != before {
		t.Errorf("content changed by rename:\n%s\nvs\n%s", after, before)
	}
	r := c.ok(inUTC, "list", path)
	if !strings.Contains(r.stdout, "Mon, 2024-01-01 00:00:00") {
		t.Errorf("rename lost the archive time:\n%s", r)
	}

	c.fails(inUTC, []string{`"other" already exists`}, "rename", path+"::new", "other")
	c.fails(inUTC, []string{`"gone" not found`}, "rename", path+"::gone", "x")
	c.fails(inUTC, []string{"archive name"}, "rename", path+"::new", "a/b")
	c.fails(inUTC, nil, "rename", path+"::new")
	checkNames(t, c.archiveNames(path), "new", "other")
}

func TestRetentionLocks(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := c.initRepo("repo")
	c.createAt(path, map[string]string{"x": "2024-01-01T00:00:00"})
	host, _ := os.Hostname()
	holdLock(t, path, true)
	for _, cmd := range [][]string{
		{"delete", path + "::x"},
		{"rename", path + "::x", "y"},
		{"prune", "--keep-daily", "1", path},
	} {
		start := time.Now()
		c.fails(inUTC, []string{"locked", "exclusive lock", host}, append([]string{"--lock-wait", "1"}, cmd...)...)
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("%s gave up after %v, before --lock-wait 1", cmd[0], d)
		}
	}
	if n := len(lockFiles(t, path)); n != 1 {
		t.Errorf("%d lock files, want only the held one", n)
	}
	c.ok(nil, "break-lock", path)
	checkNames(t, c.archiveNames(path), "x")
}
