package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyfileMode(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	keysDir := c.path("keys")
	env := append([]string{"GOBAK_KEYS_DIR=" + keysDir}, withPass...)
	repo := c.path("repo")
	r := c.ok(env, "init", "--encryption", "keyfile", repo)
	if k := keyFiles(t, repo); len(k) != 0 {
		t.Errorf("keyfile mode stored keys in the repository: %v", k)
	}
	files, _ := filepath.Glob(filepath.Join(keysDir, "gobak-*"))
	if len(files) != 1 {
		t.Fatalf("keys dir holds %v, want one gobak-<id> file", files)
	}
	if !strings.Contains(r.stdout, files[0]) {
		t.Errorf("init does not say where the key is (%s):\n%s", files[0], r)
	}
	got := c.infoJSONOf(env, repo)
	if got.Encryption.Mode != "keyfile" || got.Encryption.Keyfile != files[0] {
		t.Errorf("encryption = %+v, want keyfile %s", got.Encryption, files[0])
	}
	// Without GOBAK_KEYS_DIR the key is looked for in ~/.config/gobak/keys.
	c.fails(withPass, []string{"no usable key", filepath.Join(c.vars["HOME"], ".config", "gobak", "keys"), "gobak key import"}, "info", repo)

	// Export, lose the key file, import it back.
	exported := c.path("exported.key")
	c.ok(env, "key", "export", repo, exported)
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	c.fails(env, []string{"no usable key"}, "info", repo)
	c.ok(env, "key", "import", repo, exported)
	c.ok(env, "info", repo)
}

func TestEncryptionNone(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.path("repo")
	// No passphrase source at all and stdin is not a terminal: nothing
	// may ask for one.
	r := c.ok(nil, "init", "--encryption", "none", repo)
	if !strings.Contains(r.stdout, "NOT encrypted") {
		t.Errorf("init -e none does not warn:\n%s", r)
	}
	if got := c.infoJSONOf(nil, repo); got.Encryption.Mode != "none" || got.Gobak.Keys != 0 {
		t.Errorf("info = %+v", got)
	}
	c.fails(nil, []string{"no key", "encryption none"}, "key", "export", repo)
	c.fails(nil, []string{"no key"}, "key", "change-passphrase", repo)
	c.fails(nil, []string{"--cipher"}, "init", "-e", "none", "--cipher", "chacha20-poly1305", c.path("r2"))
}

func TestKeyExportImport(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.initRepo("repo")
	exported := c.path("exported.key")
	r := c.ok(withPass, "key", "export", repo, exported)
	if !strings.Contains(r.stdout, exported) {
		t.Errorf("export does not name the file:\n%s", r)
	}
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(exported); fi.Mode().Perm() != 0o600 {
		t.Errorf("exported key mode = %v, want 0600", fi.Mode().Perm())
	}
	for _, args := range [][]string{{"key", "export", repo}, {"key", "export", repo, "-"}} {
		if out := c.ok(withPass, args...); out.stdout != string(data) {
			t.Errorf("%v: stdout differs from the exported file:\n%s", args, out)
		}
	}

	for _, k := range keyFiles(t, repo) {
		if err := os.Remove(k); err != nil {
			t.Fatal(err)
		}
	}
	c.fails(withPass, []string{"no usable key", "gobak key import"}, "info", repo)

	// Keys that are not this repository's are refused.
	garbage := c.path("garbage.key")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(withPass, []string{"malformed key file", garbage}, "key", "import", repo, garbage)
	other := c.initRepo("other")
	otherKey := c.path("other.key")
	c.ok(withPass, "key", "export", other, otherKey)
	c.fails(withPass, []string{"belongs to repository"}, "key", "import", repo, otherKey)
	c.fails(withPass, []string{"no such file", "gobak key export"}, "key", "import", repo, c.path("missing.key"))
	c.fails([]string{"GOBAK_PASSPHRASE=wrong"}, []string{"wrong passphrase"}, "key", "import", repo, exported)

	c.ok(withPass, "key", "import", repo, exported)
	c.ok(withPass, "info", repo)
	// From stdin too (a second import of the same key is harmless).
	res := c.runWith(runOpts{env: map[string]string{"GOBAK_PASSPHRASE": pass}, stdin: string(data)}, "key", "import", repo, "-")
	if res.code != 0 {
		t.Errorf("import from stdin:\n%s", res)
	}
	if k := keyFiles(t, repo); len(k) != 1 {
		t.Errorf("keys after import = %v, want one", k)
	}
}

func TestChangePassphrase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.initRepo("repo")
	c.fails(withPass, []string{"no new passphrase", "GOBAK_NEW_PASSPHRASE"}, "key", "change-passphrase", repo)
	r := c.ok(append([]string{"GOBAK_NEW_PASSPHRASE=new one"}, withPass...), "key", "change-passphrase", repo)
	if !strings.Contains(r.stdout, "export the key again") {
		t.Errorf("change-passphrase does not advise a new export:\n%s", r)
	}
	c.fails(withPass, []string{"wrong passphrase"}, "info", repo)
	c.ok([]string{"GOBAK_PASSPHRASE=new one"}, "info", repo)
	if k := keyFiles(t, repo); len(k) != 1 {
		t.Errorf("keys after change = %v, want one", k)
	}
}

func TestPassphraseSources(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.initRepo("repo")

	pipe := func(t *testing.T, content string) *os.File {
		t.Helper()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if _, err := w.WriteString(content); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return r
	}
	tests := []struct {
		name    string
		env     map[string]string
		fd      string // content of fd 3, if not ""
		wantErr []string
	}{
		{"passcommand", map[string]string{"GOBAK_PASSCOMMAND": "echo '" + pass + "'"}, "", nil},
		{"passcommand one newline only", map[string]string{"GOBAK_PASSCOMMAND": "printf '" + pass + "\\n\\n'"}, "", []string{"wrong passphrase"}},
		{"passcommand fails", map[string]string{"GOBAK_PASSCOMMAND": "exit 3"}, "", []string{"GOBAK_PASSCOMMAND failed", "exit status 3"}},
		{"passphrase before passcommand", map[string]string{"GOBAK_PASSPHRASE": pass, "GOBAK_PASSCOMMAND": "exit 1"}, "", nil},
		{"passcommand before fd", map[string]string{"GOBAK_PASSCOMMAND": "echo '" + pass + "'", "GOBAK_PASSPHRASE_FD": "3"}, "wrong\n", nil},
		{"fd", map[string]string{"GOBAK_PASSPHRASE_FD": "3"}, pass + "\nignored\n", nil},
		{"fd without newline", map[string]string{"GOBAK_PASSPHRASE_FD": "3"}, pass, nil},
		{"fd wrong", map[string]string{"GOBAK_PASSPHRASE_FD": "3"}, "wrong\n", []string{"wrong passphrase"}},
		{"fd not a number", map[string]string{"GOBAK_PASSPHRASE_FD": "three"}, "", []string{"GOBAK_PASSPHRASE_FD", "not a file descriptor"}},
		{"fd closed", map[string]string{"GOBAK_PASSPHRASE_FD": "999"}, "", []string{"GOBAK_PASSPHRASE_FD=999", "bad file descriptor"}},
		{"empty passphrase is a passphrase", map[string]string{"GOBAK_PASSPHRASE": ""}, "", []string{"wrong passphrase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := runOpts{env: tt.env}
			if tt.fd != "" {
				o.extra = []*os.File{pipe(t, tt.fd)}
			}
			r := c.with(t).runWith(o, "info", repo)
			if tt.wantErr == nil {
				if r.code != 0 {
					t.Errorf("want success:\n%s", r)
				}
				return
			}
			checkError(t, r, tt.wantErr...)
		})
	}

	// An empty passphrase set on purpose works.
	empty := c.path("empty")
	c.ok([]string{"GOBAK_PASSPHRASE="}, "init", empty)
	c.ok([]string{"GOBAK_PASSPHRASE="}, "info", empty)
	c.fails([]string{"GOBAK_PASSPHRASE=x"}, []string{"wrong passphrase"}, "info", empty)
	// At init, GOBAK_NEW_PASSPHRASE wins.
	newp := c.path("newp")
	c.ok(append([]string{"GOBAK_NEW_PASSPHRASE=fresh"}, withPass...), "init", newp)
	c.ok([]string{"GOBAK_PASSPHRASE=fresh"}, "info", newp)
}

func TestExportKeyToDirectoryFails(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repo := c.initRepo("repo")
	dir := c.path("adir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.fails(withPass, []string{"key export", "is a directory"}, "key", "export", repo, dir)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("export left files in %s: %v", dir, entries)
	}
	if entries, _ := os.ReadDir(c.dir); bytes.Contains([]byte(strings.Join(names(entries), " ")), []byte(".gobak-tmp")) {
		t.Errorf("export left a temporary file: %v", names(entries))
	}
}

func names(entries []os.DirEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out
}
