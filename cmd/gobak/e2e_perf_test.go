package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// peakRSS runs gobak with args in c's environment and returns the peak
// resident set size of the process in KiB; it fails the test unless gobak
// exits 0.
func (c *cli) peakRSS(args ...string) int64 {
	c.t.Helper()
	cmd := gobakCommand(c.t, args...)
	for k, v := range c.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "GOBAK_PASSPHRASE="+pass)
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("gobak %v: %v\n%s", args, err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		c.t.Fatal("no rusage")
	}
	return ru.Maxrss // KiB on Linux
}

// writeSpread writes size bytes in total: pieces of piece bytes of
// pseudo-random data at offsets spread evenly over a file of length
// length, the rest holes.
func writeSpread(t *testing.T, path string, length, size, piece int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(length); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, piece)
	n := size / piece
	for i := range n {
		for j := range buf {
			buf[j] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(buf, i*(length/n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCreateMemoryFlatInFileSize backs up one file of 20 MiB of data and
// one sparse file of 20 GiB holding the same amount of data: the peak RSS
// of gobak create must not grow with the file's length (holes are not
// read, but a naive extent list, a buffer sized by the file, or a pack
// per region would show). The limit is a ratio, as absolute sizes vary
// with the machine.
func TestCreateMemoryFlatInFileSize(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory; not in -short")
	}
	c := newCLI(t)
	dense := filepath.Join(c.path("dense"), "f")
	sparse := filepath.Join(c.path("sparse"), "f")
	for _, d := range []string{filepath.Dir(dense), filepath.Dir(sparse)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeSpread(t, dense, 20<<20, 20<<20, 1<<20)
	writeSpread(t, sparse, 20<<30, 20<<20, 1<<20)
	var st syscall.Stat_t
	if err := syscall.Stat(sparse, &st); err != nil {
		t.Fatal(err)
	}
	if st.Blocks*512 > 64<<20 {
		t.Skipf("the file system does not keep holes (%d bytes allocated)", st.Blocks*512)
	}
	measure := func(name, path string) int64 {
		repo := c.initRepo("repo-" + name)
		return c.peakRSS("create", repo+"::a", path)
	}
	// Alternate and keep the smallest of two runs each: the machine may
	// be busy.
	var small, big int64
	for range 2 {
		s, b := measure("dense", dense), measure("sparse", sparse)
		if small == 0 || s < small {
			small = s
		}
		if big == 0 || b < big {
			big = b
		}
		os.RemoveAll(c.path("repo-dense"))
		os.RemoveAll(c.path("repo-sparse"))
	}
	t.Logf("peak RSS: 20 MiB file %d KiB, 20 GiB sparse file %d KiB", small, big)
	if float64(big) > 1.5*float64(small) {
		t.Errorf("peak RSS of a 20 GiB sparse file is %d KiB, %.2f times that of a 20 MiB file (%d KiB); want below 1.5", big, float64(big)/float64(small), small)
	}
}
