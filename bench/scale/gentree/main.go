// Command gentree writes a deterministic tree of many small files for
// bench/scale/scale.sh: DIRS directories of FILES files each, every file
// 0-2 KiB of text that is a function of the seed and its position only.
//
//	gentree [-seed N] -dirs 1000 -files 1000 DIR
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

var words = []string{"alpha", "beta", "gamma", "delta", "config", "value", "index", "block", "chunk",
	"tree", "node", "error", "return", "string", "buffer", "packet", "stream", "cache", "lock", "table"}

func main() {
	seed := flag.Uint64("seed", 1, "tree seed")
	dirs := flag.Int("dirs", 1000, "number of directories")
	files := flag.Int("files", 1000, "files per directory")
	flag.Parse()
	if flag.NArg() != 1 || *dirs < 1 || *files < 1 {
		fmt.Fprintln(os.Stderr, "usage: gentree [-seed N] -dirs D -files F DIR")
		os.Exit(2)
	}
	if err := gen(flag.Arg(0), *seed, *dirs, *files); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}

func gen(root string, seed uint64, dirs, files int) error {
	if _, err := os.Stat(root); err == nil {
		return fmt.Errorf("%s exists", root)
	}
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
	)
	for range 2 * runtime.NumCPU() {
		wg.Go(func() {
			buf := make([]byte, 0, 2<<10+64)
			for d := range next {
				if err := genDir(root, seed, d, files, buf); err != nil {
					mu.Lock()
					ferr = errors.Join(ferr, err)
					mu.Unlock()
				}
			}
		})
	}
	for d := range dirs {
		next <- d
	}
	close(next)
	wg.Wait()
	return ferr
}

func genDir(root string, seed uint64, d, files int, buf []byte) error {
	dir := filepath.Join(root, fmt.Sprintf("d%05d", d))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, uint64(d)))
	for f := range files {
		n := r.IntN(2<<10 + 1)
		b := buf[:0]
		for len(b) < n {
			b = fmt.Appendf(b, "%s=%d ", words[r.IntN(len(words))], r.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.txt", f)), b[:n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
