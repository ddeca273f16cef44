package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBorgStyleSession runs the nightly session of issue 3 as a sysadmin
// would: a placeholder name, three paths, two excludes and lz4, then, one
// day, extracting a single file into the current directory.
func TestBorgStyleSession(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("backup-repo")
	src := c.path("srv")
	files := map[string]string{
		"etc/ssh/sshd_config":                 "PermitRootLogin no\n",
		"etc/app/settings.tmp":                "scratch",
		"var/lib/postgresql/15/main/base/1":   strings.Repeat("page", 50000),
		"home/deploy/app/config.yml":          "listen: 8080\ndb: postgres://app\n",
		"home/deploy/.cache/pip/wheel":        "cached",
		"home/alice/notes.txt":                "remember the milk",
		"home/alice/.cache/thumbnails/a.png":  "png",
		"home/alice/project/build/output.tmp": "tmp",
	}
	writeFiles(t, src, files)
	time.Sleep(1100 * time.Millisecond) // files older than the backup, as on a real server

	c.ok(withPass, "create", repoPath+"::{hostname}-{now:%Y-%m-%d_%H:%M}",
		filepath.Join(src, "etc"), filepath.Join(src, "var/lib/postgresql"), filepath.Join(src, "home"),
		"--exclude", "*.tmp", "--exclude", src+"/home/*/.cache", "--compression", "lz4")

	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	list := c.ok(withPass, "list", "--format", "{archive}{NL}", repoPath).stdout
	name := strings.TrimSpace(list)
	if !strings.HasPrefix(name, host+"-"+time.Now().Format("2006-01-02")+"_") || strings.Contains(name, "\n") {
		t.Fatalf("archive list %q: want one archive named %s-YYYY-MM-DD_HH:MM", list, host)
	}

	// The excludes took effect: no .tmp file and no .cache directory.
	entries := c.ok(withPass, "list", repoPath+"::"+name).stdout
	for _, gone := range []string{".tmp", ".cache"} {
		if strings.Contains(entries, gone) {
			t.Errorf("archive lists %q although it was excluded:\n%s", gone, entries)
		}
	}
	for _, kept := range []string{"sshd_config", "postgresql/15/main/base/1", "alice/notes.txt"} {
		if !strings.Contains(entries, kept) {
			t.Errorf("archive lacks %q:\n%s", kept, entries)
		}
	}

	// One day: restore one file into the current directory.
	restore := c.path("restore")
	if err := os.Mkdir(restore, 0o700); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(filepath.Join(src, "home/deploy/app/config.yml"), "/")
	r := c.runWith(runOpts{env: map[string]string{"GOBAK_PASSPHRASE": pass}, dir: restore}, "extract", repoPath+"::"+name, want)
	if r.code != 0 {
		t.Fatalf("extract: %s", r)
	}
	got, err := os.ReadFile(filepath.Join(restore, want))
	if err != nil || string(got) != files["home/deploy/app/config.yml"] {
		t.Fatalf("restored config.yml: %q %v", got, err)
	}
	var restored []string
	filepath.Walk(restore, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			restored = append(restored, p)
		}
		return nil
	})
	if len(restored) != 1 {
		t.Errorf("extracting one path restored %d files: %v", len(restored), restored)
	}
}
