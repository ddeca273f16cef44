package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/repo"
)

// compactRepoFlags make small packs and chunks, so a small repository has
// many packs.
var compactRepoFlags = []string{"--pack-size", "1M", "--chunker-params", "64K,128K,512K", "--compression", "none"}

// compactSetup creates a repository with n archives of a slowly changing
// tree, keeps a copy of each archive's source in srcs, and returns the
// repository path and the sources by archive name.
func compactSetup(c *cli, n int) (string, map[string]string) {
	c.t.Helper()
	t := c.t
	repoPath := c.initRepo("repo", compactRepoFlags...)
	src := c.path("src")
	rng := rand.New(rand.NewPCG(7, 11))
	files := map[string]string{}
	for i := range 16 {
		files[fmt.Sprintf("d%d/f%02d", i%3, i)] = string(randomBytes(200<<10+rng.IntN(400<<10), rng.Uint64()))
	}
	srcs := map[string]string{}
	for a := range n {
		if a > 0 {
			for range 5 {
				i := rng.IntN(16)
				files[fmt.Sprintf("d%d/f%02d", i%3, i)] = string(randomBytes(200<<10+rng.IntN(400<<10), rng.Uint64()))
			}
		}
		_ = os.RemoveAll(src)
		writeFiles(t, src, files)
		name := fmt.Sprintf("a%02d", a)
		c.ok(withPass, "create", repoPath+"::"+name, src)
		snap := c.path("snap-" + name)
		writeFiles(t, snap, files)
		srcs[name] = snap
	}
	return repoPath, srcs
}

// deleteArchiveRecords removes the records of the named archives.
func deleteArchiveRecords(t *testing.T, repoPath string, names map[string]bool) {
	t.Helper()
	ctx := context.Background()
	be, err := local.Open(repoPath)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	r, err := repo.Open(ctx, be, repo.Options{Passphrase: func() ([]byte, error) { return []byte(pass), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if names[e.Record.Name] {
			if err := r.DeleteArchive(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkArchives checks that the repository holds exactly the archives of
// want and that every file of each has its source's content.
func checkArchives(t *testing.T, repoPath string, want map[string]string) {
	t.Helper()
	got := readArchives(t, repoPath)
	if len(got) != len(want) {
		t.Fatalf("%d archives, want %d", len(got), len(want))
	}
	for name, src := range want {
		a := got[name]
		if a == nil {
			t.Fatalf("archive %s is missing", name)
		}
		base := strings.TrimPrefix(src, "/")
		n := 0
		err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			key := strings.Replace(base, "snap-"+name, "src", 1) + "/" + rel
			if !bytes.Equal(a.data[key], data) {
				t.Errorf("archive %s: %s differs (%d bytes, want %d)", name, key, len(a.data[key]), len(data))
			}
			n++
			return nil
		})
		if err != nil || n == 0 {
			t.Fatalf("walk %s: %v (%d files)", src, err, n)
		}
	}
}

// repoFiles lists the files of a repository but its locks.
func repoFiles(t *testing.T, repoPath string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(repoPath, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.Contains(p, "/locks/") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyDir copies a directory tree (regular files only).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// compactCmd starts gobak compact on repoPath with its own cache.
func (c *cli) compactCmd(repoPath, cache string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := gobakCommand(c.t, append(append([]string{"compact", "--lock-wait", "10"}, args...), repoPath)...)
	for k, v := range c.vars {
		if k != "GOBAK_CACHE_DIR" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, "GOBAK_PASSPHRASE="+pass, "GOBAK_CACHE_DIR="+cache)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func TestCompactE2E(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath, srcs := compactSetup(c, 16)
	gone := map[string]bool{"a01": true, "a03": true, "a04": true, "a07": true, "a09": true, "a10": true, "a12": true}
	deleteArchiveRecords(t, repoPath, gone)
	for name := range gone {
		delete(srcs, name)
	}
	before := packBytes(t, repoPath)
	snapshot := c.path("snapshot")
	copyDir(t, repoPath, snapshot)

	dry := c.ok(withPass, "compact", "--dry-run", repoPath)
	if !strings.Contains(dry.stdout, "Would free") {
		t.Errorf("dry run output:\n%s", dry)
	}
	if packBytes(t, repoPath) != before {
		t.Fatalf("dry run changed the packs")
	}
	// Timed as the killed runs below run: another copy, a cold cache.
	timed := c.path("timed")
	copyDir(t, snapshot, timed)
	cmd, out := c.compactCmd(timed, c.path("cache-timed"), "--threshold", "0")
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("compact: %v\n%s", err, out)
	}
	elapsed := time.Since(start)
	r := c.ok(withPass, "compact", "--threshold", "0", repoPath)
	if !strings.Contains(r.stdout, "Freed") || !strings.Contains(r.stdout, "Still unused: 0 B") {
		t.Errorf("compact output:\n%s", r)
	}
	after := packBytes(t, repoPath)
	checkArchives(t, repoPath, srcs)

	// The ideal: a fresh repository holding only the remaining archives.
	ideal := c.initRepo("ideal", compactRepoFlags...)
	for _, name := range []string{"a00", "a02", "a05", "a06", "a08", "a11", "a13", "a14", "a15"} {
		src := c.path("src")
		_ = os.RemoveAll(src)
		copyDir(t, srcs[name], src)
		c.ok(withPass, "create", ideal+"::"+name, src)
	}
	idealBytes := packBytes(t, ideal)
	t.Logf("compact: %d -> %d pack bytes (ideal %d, %.1f%% above) in %v", before, after, idealBytes, 100*float64(after-idealBytes)/float64(idealBytes), elapsed)
	if float64(after) > float64(idealBytes)*1.05 {
		t.Errorf("compacted repository has %d pack bytes, a fresh one %d", after, idealBytes)
	}
	again := c.ok(withPass, "compact", "--threshold", "0", repoPath)
	if !strings.Contains(again.stdout, "Freed 0 B") {
		t.Errorf("second compact:\n%s", again)
	}

	t.Run("killed", func(t *testing.T) {
		// SIGKILL at random moments: each round starts from the snapshot
		// and kills one or two compacts in a row; after each kill every
		// archive is intact, and a last compact finishes the job.
		c := c.with(t)
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
		maxDelay := elapsed
		kills, completed := 0, 0
		for round := 0; kills < 24; round++ {
			if round == 100 {
				t.Fatalf("only %d of %d compacts were killed before they finished", kills, kills+completed)
			}
			work := c.path(fmt.Sprintf("work%d", round))
			copyDir(t, snapshot, work)
			cache := c.path(fmt.Sprintf("cache%d", round))
			for k := 0; k < 1+round%2; k++ {
				cmd, out := c.compactCmd(work, cache, "--threshold", "0")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				delay := 5*time.Millisecond + time.Duration(rng.Int64N(int64(maxDelay)))
				time.Sleep(delay)
				_ = cmd.Process.Signal(syscall.SIGKILL)
				err := cmd.Wait()
				var ee *exec.ExitError
				if err == nil {
					completed++
				} else if !errors.As(err, &ee) || ee.ExitCode() != -1 {
					t.Fatalf("compact failed on its own after %v: %v\n%s", delay, err, out)
				} else {
					kills++
				}
				checkArchives(t, work, srcs)
			}
			cmd, out := c.compactCmd(work, cache, "--threshold", "0")
			if err := cmd.Run(); err != nil {
				t.Fatalf("compact after the kills: %v\n%s", err, out)
			}
			checkArchives(t, work, srcs)
			if got := packBytes(t, work); got != after {
				t.Errorf("round %d: %d pack bytes after kills and a full compact, want %d", round, got, after)
			}
			_ = os.RemoveAll(work)
		}
		t.Logf("%d compacts killed (%d more had finished first), delays up to %v", kills, completed, maxDelay)
	})
}

func TestCompactLockAndRefusal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath, srcs := compactSetup(c, 4)
	deleteArchiveRecords(t, repoPath, map[string]bool{"a01": true})
	delete(srcs, "a01")

	// Another process's exclusive lock (as compact holds it): compact and
	// create fail cleanly and write nothing.
	src := c.path("src")
	writeFiles(t, src, map[string]string{"new": string(randomBytes(300<<10, 99))})
	l := holdLock(t, repoPath, true)
	files := len(repoFiles(t, repoPath))
	c.fails(withPass, []string{"locked"}, "compact", "--lock-wait", "0", repoPath)
	c.fails(withPass, []string{"locked", "exclusive lock"}, "create", "--lock-wait", "0", repoPath+"::blocked", src)
	if got := len(repoFiles(t, repoPath)); got != files {
		t.Errorf("%d files in the repository, %d before the locked-out commands", got, files)
	}
	if err := l.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}

	// create during compact either runs before or after it, or fails with
	// a lock message; it never corrupts anything.
	cmd, out := c.compactCmd(repoPath, c.vars["GOBAK_CACHE_DIR"], "--threshold", "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	locked, created := 0, 0
loop:
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("compact: %v\n%s", err, out)
			}
			break loop
		default:
		}
		time.Sleep(30 * time.Millisecond) // gaps in which compact gets its lock
		name := fmt.Sprintf("during%d", i)
		r := c.run(withPass, "create", "--lock-wait", "0", repoPath+"::"+name, src)
		switch {
		case r.code == 0:
			created++
			srcs[name] = src
		case r.code == exitError && strings.Contains(r.stderr, "locked"):
			locked++
		default:
			t.Fatalf("create during compact:\n%s", r)
		}
	}
	t.Logf("during compact: %d creates failed on the lock, %d ran", locked, created)
	// Archives created from src keep their path "src"; checkArchives maps
	// snapshot paths back to it.
	for name, s := range srcs {
		if s == src {
			snap := c.path("snap-" + name)
			copyDir(t, src, snap)
			srcs[name] = snap
		}
	}
	checkArchives(t, repoPath, srcs)

	// A damaged archive record: compact refuses and deletes nothing.
	packs := packBytes(t, repoPath)
	recs, _ := filepath.Glob(filepath.Join(repoPath, "archives", "*"))
	replaceFile(t, recs[0], []byte("garbage"))
	deleteArchiveRecords(t, repoPath, map[string]bool{"a02": true})
	c.fails(withPass, []string{"refused", "cannot be read", "gobak check"}, "compact", repoPath)
	if packBytes(t, repoPath) != packs {
		t.Errorf("refused compact changed the packs")
	}
}
