package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// infoOut is the part of info --json the tests check.
type infoOut struct {
	Repository struct {
		ID       string `json:"id"`
		Location string `json:"location"`
	} `json:"repository"`
	Encryption struct {
		Mode    string `json:"mode"`
		Cipher  string `json:"cipher"`
		Keyfile string `json:"keyfile"`
	} `json:"encryption"`
	Cache struct {
		Path  string            `json:"path"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"cache"`
	Gobak struct {
		FormatVersion int `json:"format_version"`
		Chunker       struct {
			Min, Avg, Max uint32
		} `json:"chunker"`
		PackSize    uint32 `json:"pack_size"`
		Compression string `json:"compression"`
		Packs       *int   `json:"packs"`
		Blobs       *int   `json:"blobs"`
		Archives    *int   `json:"archives"`
		Keys        int    `json:"keys"`
	} `json:"gobak"`
}

// infoJSONOf runs info --json and parses it.
func (c *cli) infoJSONOf(env []string, repo string) infoOut {
	c.t.Helper()
	r := c.ok(env, "info", "--json", repo)
	var out infoOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		c.t.Fatalf("info --json is not JSON: %v\n%s", err, r)
	}
	return out
}

var idLine = regexp.MustCompile(`Repository ID: +([0-9a-f]{64})`)

func TestInitInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		flags                []string
		mode, cipher, comp   string
		min, avg, max, packs uint32
		keys                 int
	}{
		{"defaults", nil, "repokey", "aes-256-gcm", "lz4", 512 << 10, 1 << 20, 8 << 20, 16 << 20, 1},
		{"chacha zstd", []string{"--cipher", "chacha20-poly1305", "-C", "zstd,6", "--chunker-params", "64K,256K,1M", "--pack-size", "4M"},
			"repokey", "chacha20-poly1305", "zstd,6", 64 << 10, 256 << 10, 1 << 20, 4 << 20, 1},
		{"none", []string{"--encryption", "none", "--compression", "auto,s2"}, "none", "none", "auto,s2", 512 << 10, 1 << 20, 8 << 20, 16 << 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			repo := c.path("repo")
			r := c.ok(withPass, append(append([]string{"init"}, tt.flags...), repo)...)
			m := idLine.FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("init prints no repository id:\n%s", r)
			}
			for _, want := range []string{repo, tt.mode} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("init output lacks %q:\n%s", want, r)
				}
			}
			if tt.mode != "none" && !strings.Contains(r.stdout, "gobak key export") {
				t.Errorf("init does not remind to export the key:\n%s", r)
			}

			text := c.ok(withPass, "info", repo)
			for _, want := range []string{m[1], "Location:", repo, tt.mode, "Compression:", tt.comp, "Packs:", "Archives:", "Keys:"} {
				if !strings.Contains(text.stdout, want) {
					t.Errorf("info lacks %q:\n%s", want, text)
				}
			}

			got := c.infoJSONOf(withPass, repo)
			if got.Repository.ID != m[1] || got.Repository.Location != repo {
				t.Errorf("repository = %+v, want id %s location %s", got.Repository, m[1], repo)
			}
			if got.Encryption.Mode != tt.mode || got.Encryption.Cipher != tt.cipher {
				t.Errorf("encryption = %+v, want %s %s", got.Encryption, tt.mode, tt.cipher)
			}
			if want := filepath.Join(c.vars["GOBAK_CACHE_DIR"], m[1]); got.Cache.Path != want {
				t.Errorf("cache path = %q, want %q", got.Cache.Path, want)
			}
			for _, k := range []string{"total_chunks", "total_unique_chunks", "total_size", "total_csize", "unique_size", "unique_csize"} {
				if v, ok := got.Cache.Stats[k]; !ok || v != 0 {
					t.Errorf("cache.stats.%s = %d, %v; want 0 in an empty repository", k, v, ok)
				}
			}
			g := got.Gobak
			if g.FormatVersion != 1 || g.Compression != tt.comp || g.PackSize != tt.packs || g.Keys != tt.keys ||
				g.Chunker.Min != tt.min || g.Chunker.Avg != tt.avg || g.Chunker.Max != tt.max {
				t.Errorf("gobak = %+v, want compression %s pack size %d keys %d chunker %d,%d,%d",
					g, tt.comp, tt.packs, tt.keys, tt.min, tt.avg, tt.max)
			}
			if g.Packs == nil || g.Blobs == nil || g.Archives == nil || *g.Packs != 0 || *g.Archives != 0 {
				t.Errorf("gobak counts missing or not zero: %+v", g)
			}
		})
	}
}

func TestInitRefuses(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.initRepo("repo")
	c.fails(withPass, []string{"already exists"}, "init", repo)

	full := c.path("full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.fails(withPass, []string{"not empty", full}, "init", full)
	entries, err := os.ReadDir(full)
	if err != nil || len(entries) != 1 {
		t.Errorf("init touched the non-empty directory: %v %v", entries, err)
	}

	// A failed init (here: no passphrase) leaves nothing behind, so it can
	// simply be run again.
	fresh := c.path("fresh")
	c.fails(nil, []string{"no passphrase"}, "init", fresh)
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("failed init left %s behind: %v", fresh, err)
	}
	c.ok(withPass, "init", fresh)
}

// setConfigVersion rewrites the "version" of a repository's config.
func setConfigVersion(t *testing.T, repo string, v int) {
	t.Helper()
	path := filepath.Join(repo, "config")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = v
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o400); err != nil {
		t.Fatal(err)
	}
}

// replaceFile overwrites a (read-only) repository file.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o400); err != nil {
		t.Fatal(err)
	}
}

// keyFiles lists a repository's keys/ directory.
func keyFiles(t *testing.T, repo string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(repo, "keys", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	good := c.initRepo("good")

	notRepo := c.path("notrepo")
	if err := os.MkdirAll(notRepo, 0o755); err != nil {
		t.Fatal(err)
	}
	v2 := c.initRepo("v2")
	setConfigVersion(t, v2, 2)
	garbage := c.initRepo("garbage")
	keys := keyFiles(t, garbage)
	if len(keys) != 1 {
		t.Fatalf("keys = %v, want one", keys)
	}
	replaceFile(t, keys[0], []byte("garbage, not a key\n"))
	keyName := "keys/" + filepath.Base(keys[0])

	tests := []struct {
		name string
		env  []string
		repo string
		want []string
	}{
		{"wrong passphrase", []string{"GOBAK_PASSPHRASE=wrong"}, good, []string{"repository " + good + ": wrong passphrase"}},
		{"no passphrase", nil, good, []string{"no passphrase", "GOBAK_PASSPHRASE", "GOBAK_PASSCOMMAND", "GOBAK_PASSPHRASE_FD"}},
		{"missing", withPass, c.path("missing"), []string{c.path("missing"), "does not exist", "gobak init"}},
		{"not a repository", withPass, notRepo, []string{notRepo + " is not a gobak repository", "no config file", "gobak init"}},
		{"version 2", withPass, v2, []string{"version", "2", "upgrade gobak"}},
		{"garbage key", withPass, garbage, []string{keyName, "gobak key import"}},
		{"sftp host unknown", withPass, "sftp://backup@host.invalid/repo", []string{"sftp://backup@host.invalid/repo", "ssh failed", "host.invalid"}},
		{"s3 without credentials", withPass, "s3://127.0.0.1:9000/bucket", []string{"s3://127.0.0.1:9000/bucket", "no S3 credentials", "AWS_ACCESS_KEY_ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.with(t).fails(tt.env, tt.want, "info", tt.repo)
		})
	}
	// Nothing was written into the directory that is not a repository.
	if entries, _ := os.ReadDir(notRepo); len(entries) != 0 {
		t.Errorf("info wrote into a directory that is not a repository: %v", entries)
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.initRepo("repo")
	if got := c.infoJSONOf(withPass, "file://"+repo); got.Repository.Location != repo {
		t.Errorf("file URL: location = %q, want %q", got.Repository.Location, repo)
	}
	env := append([]string{"GOBAK_REPO=" + repo}, withPass...)
	if r := c.ok(env, "info"); !strings.Contains(r.stdout, repo) {
		t.Errorf("GOBAK_REPO: info output lacks %s:\n%s", repo, r)
	}
	c.fails(env, []string{"archive \"archive\" not found", "gobak list"}, "info", "::archive")
	c.fails(withPass, []string{"no repository given", "GOBAK_REPO"}, "info")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"frobnicate"}, []string{"unknown command", "gobak --help"}},
		{[]string{"info", "--frob", "x"}, []string{"unknown flag", "gobak info --help"}},
		{[]string{"info", "a", "b"}, []string{"gobak info --help"}},
		{[]string{"init", "--encryption", "rot13", c.path("r")}, []string{"--encryption", "rot13"}},
		{[]string{"init", "--pack-size", "12Q", c.path("r")}, []string{"--pack-size"}},
		{[]string{"init", "--chunker-params", "1,2", c.path("r")}, []string{"--chunker-params"}},
		{[]string{"init", "--compression", "zstd,99", c.path("r")}, []string{"--compression"}},
		{[]string{"--lock-wait", "-1", "info", c.path("r")}, []string{"--lock-wait"}},
		{[]string{"key", "import", c.path("r")}, []string{"gobak key import --help"}},
		{[]string{"key", "frob"}, []string{"unknown command", "gobak key --help"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c.with(t).fails(withPass, tt.want, tt.args...)
		})
	}
	if _, err := os.Stat(c.path("r")); !os.IsNotExist(err) {
		t.Errorf("a usage error created the repository: %v", err)
	}
	r := c.ok(nil, "--help")
	if !strings.Contains(r.stdout, "init") || !strings.Contains(r.stdout, "break-lock") {
		t.Errorf("--help lacks commands:\n%s", r)
	}
}
