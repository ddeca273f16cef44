package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPatterns: --pattern and --patterns-from select what create stores
// and what extract restores, borg's way: the first matching rule decides,
// '-' still descends so a later '+' can pick a file inside, '!' does not,
// --exclude keeps its place among --pattern rules, and 'R PATH' lines give
// create its roots.
func TestPatterns(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("repo")
	src := c.path("src")
	writeFiles(t, src, map[string]string{
		"etc/app.conf":       "conf",
		"etc/secret.key":     "key",
		"home/a/doc.txt":     "doc",
		"home/a/.cache/big":  "cache",
		"home/a/.cache/keep": "keep me",
		"home/b/notes.txt":   "notes",
		"var/log/syslog":     "log",
	})
	rel := strings.TrimPrefix(src, "/")
	files := func(name string) []string {
		var got []string
		for p := range readArchives(t, repoPath)[name].data {
			got = append(got, strings.TrimPrefix(p, rel+"/"))
		}
		slices.Sort(got)
		return got
	}
	check := func(name string, want ...string) {
		t.Helper()
		if got := files(name); !slices.Equal(got, want) {
			t.Errorf("archive %s holds files %q, want %q", name, got, want)
		}
	}

	// Command-line rules, in order: the '+' for .cache/keep comes before
	// the '-' of .cache, which still descends; '!' prunes var/ unseen.
	c.ok(withPass, "create", repoPath+"::cli", src,
		"--pattern", "+ "+src+"/home/a/.cache/keep",
		"--pattern", "- "+src+"/home/*/.cache",
		"--exclude", src+"/etc/*.key",
		"--pattern", "! "+src+"/var")
	check("cli", "etc/app.conf", "home/a/.cache/keep", "home/a/doc.txt", "home/b/notes.txt")

	// --exclude before a --pattern '+' for the same file wins over it,
	// and the other way round: order is kept across the two flags.
	c.ok(withPass, "create", repoPath+"::order", src,
		"--exclude", src+"/etc/app.conf",
		"--pattern", "+ "+src+"/etc/app.conf",
		"--pattern", "+ "+src+"/etc/secret.key",
		"--exclude", src+"/etc/secret.key")
	check("order", "etc/secret.key", "home/a/.cache/big", "home/a/.cache/keep", "home/a/doc.txt", "home/b/notes.txt", "var/log/syslog")

	// A patterns file with its own roots and a final catch-all: only etc/
	// and the text files of home/ are stored; no PATH argument is needed.
	pf := c.path("patterns")
	if err := os.WriteFile(pf, []byte(strings.Join([]string{
		"# roots",
		"R " + filepath.Join(src, "etc"),
		"R " + filepath.Join(src, "home"),
		"P sh",
		"- **/*.key",
		"+ **/*.txt",
		"+ " + src + "/etc/**",
		"- **",
		"",
	}, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "create", "--patterns-from", pf, repoPath+"::file")
	check("file", "etc/app.conf", "home/a/doc.txt", "home/b/notes.txt")

	// extract takes the same rules against archive paths.
	dest := c.path("dest")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	c.ok(withPass, "extract", "--destination", dest,
		"--pattern", "+ "+rel+"/home/a/.cache/keep", "--pattern", "- "+rel+"/home/a/.cache", "--pattern", "- "+rel+"/var",
		repoPath+"::order")
	var got []string
	err := filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			got = append(got, strings.TrimPrefix(p, filepath.Join(dest, rel)+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"etc/secret.key", "home/a/.cache/keep", "home/a/doc.txt", "home/b/notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("extract restored %q, want %q", got, want)
	}

	// Bad rules are usage errors naming the flag.
	c.fails(withPass, []string{"--pattern", "does not start with"}, "create", repoPath+"::bad", src, "--pattern", "x "+src)
	c.fails(withPass, []string{"--patterns-from", "no such file"}, "create", repoPath+"::bad", src, "--patterns-from", c.path("missing"))
	c.fails(withPass, []string{"at least one PATH"}, "create", repoPath+"::bad", "--pattern", "- foo")
	c.fails(withPass, []string{"backup root"}, "extract", "--pattern", "R /etc", repoPath+"::cli")
}
