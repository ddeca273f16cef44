package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// runInProcess runs a command line through runApp with in-memory streams.
func runInProcess(t *testing.T, env map[string]string, stdout interface{ Write([]byte) (int, error) }, args ...string) (code int, stderr string) {
	t.Helper()
	var errBuf bytes.Buffer
	a := newApp(strings.NewReader(""), stdout, &errBuf, mapEnv(env))
	code = runApp(context.Background(), a, args)
	return code, errBuf.String()
}

func TestInProcess(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"HOME":                filepath.Join(dir, "home"),
		"GOBAK_CACHE_DIR":     filepath.Join(dir, "cache"),
		"GOBAK_TEST_FAST_KDF": "1",
		"GOBAK_PASSPHRASE":    "in process",
	}
	repo := filepath.Join(dir, "repo")
	var out bytes.Buffer
	if code, stderr := runInProcess(t, env, &out, "init", "--cipher", "chacha20-poly1305", repo); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	out.Reset()
	if code, stderr := runInProcess(t, env, &out, "info", "--json", repo); code != 0 {
		t.Fatalf("info: exit %d: %s", code, stderr)
	}
	var info infoJSON
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		t.Fatalf("info --json: %v\n%s", err, out.String())
	}
	if info.Encryption.Cipher != "chacha20-poly1305" || info.Repository.Location != repo {
		t.Errorf("info = %+v", info)
	}

	env["GOBAK_PASSPHRASE"] = "wrong"
	code, stderr := runInProcess(t, env, &out, "info", repo)
	if code != exitError || stderr != "gobak: repository "+repo+": wrong passphrase\n" {
		t.Errorf("wrong passphrase: exit %d, stderr %q", code, stderr)
	}
}

// panicWriter panics on every write.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom\nsecond line") }

func TestPanicIsOneLine(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOME": dir, "GOBAK_CACHE_DIR": filepath.Join(dir, "cache")}
	repo := filepath.Join(dir, "repo")
	if code, stderr := runInProcess(t, env, &bytes.Buffer{}, "init", "-e", "none", repo); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	code, stderr := runInProcess(t, env, panicWriter{}, "info", repo)
	if code != exitError || !strings.HasPrefix(stderr, "gobak: internal error: ") || !strings.Contains(stderr, "boom second line") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// The deferred cleanup ran while panicking: no lock is left.
	if m, _ := filepath.Glob(filepath.Join(repo, "locks", "*")); len(m) != 0 {
		t.Errorf("locks left after a panic: %v", m)
	}
}
