// Command gendata writes, changes, resets and hashes the deterministic mixed
// dataset of bench/compare/compare.sh. Every byte is a function of the seed,
// the size and the item's index, so two machines (or two runs) get the same
// files.
//
//	gendata [-seed N] [-size 2G] init DIR     write the dataset (DIR must not exist)
//	gendata [-seed N] [-size 2G] change DIR   rewrite ~2% in place, insert into the image
//	gendata [-seed N] [-size 2G] reset DIR    undo change: back to init's content
//	gendata manifest DIR                      sha256 and path of every regular file, sorted
//
// The dataset, for -size S (apparent bytes):
//
//	src/  S/8 in source-like text files of 1-64 KiB (compresses ~3x with lz4)
//	bin/  3S/8 in binary-like files of 1-32 MiB: random, repetitive and
//	      low-entropy segments
//	db.bin  S/4 of 8 KiB pages, half random, half rows of text
//	disk.img  S/4 apparent, in 1 MiB regions: a third holes (never written,
//	      so real holes), the rest random or compressible
//
// change rewrites 2% of the db pages and 2% of the source files in place,
// and rewrites disk.img with 100 KiB + 7 bytes inserted in its middle
// (holes stay holes, shifted).
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

const (
	kindSrc = iota + 1
	kindBin
	kindDB
	kindImg
	kindPick
	kindInsert

	pageSize   = 8 << 10
	regionSize = 1 << 20
	insertLen  = 100<<10 + 7
	changePct  = 2
)

func main() {
	seed := flag.Uint64("seed", 1, "dataset seed")
	sizeStr := flag.String("size", "2G", "apparent size of the dataset (K/M/G suffixes are powers of 1024)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendata [-seed N] [-size S] init|change|reset|manifest DIR")
		os.Exit(2)
	}
	size, err := parseSize(*sizeStr)
	if err != nil {
		fatal(err)
	}
	g := newGen(*seed, size)
	dir := flag.Arg(1)
	switch flag.Arg(0) {
	case "init":
		err = g.initAll(dir)
	case "change":
		err = g.change(dir, 1)
	case "reset":
		err = g.change(dir, 0)
	case "manifest":
		err = manifest(dir, os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", flag.Arg(0))
	}
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gendata:", err)
	os.Exit(1)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// gen holds the layout derived from seed and size.
type gen struct {
	seed     uint64
	srcSizes []int // size of source file i
	binSizes []int // size of binary i
	pages    int   // db pages
	regions  int   // image regions
	srcPick  []int // source files change rewrites
	pagePick []int // db pages change rewrites
}

func newGen(seed uint64, size int64) *gen {
	g := &gen{seed: seed}
	r := g.rng(kindSrc, 1<<40, 0)
	for left := size / 8; left > 0; {
		n := 1<<10 + r.IntN(63<<10+1)
		g.srcSizes = append(g.srcSizes, n)
		left -= int64(n)
	}
	r = g.rng(kindBin, 1<<40, 0)
	for left := size * 3 / 8; left > 0; {
		n := 1<<20 + r.IntN(31<<20+1)
		if int64(n) > left {
			n = int(left)
		}
		g.binSizes = append(g.binSizes, n)
		left -= int64(n)
	}
	g.pages = int(size / 4 / pageSize)
	g.regions = int(size / 4 / regionSize)
	if g.regions < 2 {
		g.regions = 2
	}
	r = g.rng(kindPick, 0, 0)
	g.srcPick = r.Perm(len(g.srcSizes))[:max(1, len(g.srcSizes)*changePct/100)]
	g.pagePick = r.Perm(g.pages)[:max(1, g.pages*changePct/100)]
	return g
}

// rng returns the generator of item idx of kind, version ver.
func (g *gen) rng(kind, idx, ver int) *rand.Rand {
	return rand.New(g.src(kind, idx, ver))
}

func (g *gen) src(kind, idx, ver int) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[0:], g.seed)
	binary.LittleEndian.PutUint64(s[8:], uint64(kind))
	binary.LittleEndian.PutUint64(s[16:], uint64(idx))
	binary.LittleEndian.PutUint64(s[24:], uint64(ver))
	return rand.NewChaCha8(s)
}

func srcPath(i int) string {
	return filepath.Join("src", fmt.Sprintf("mod%02d", i/400), fmt.Sprintf("pkg%03d", i/20%20), fmt.Sprintf("file%05d.go", i))
}

// parallel runs fn(0..n-1) on all CPUs and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
		next = make(chan int)
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					ferr = errors.Join(ferr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return ferr
}

func (g *gen) initAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s exists", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return err
	}
	err := parallel(len(g.srcSizes), func(i int) error {
		p := filepath.Join(dir, srcPath(i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, g.srcContent(i, 0), 0o644)
	})
	if err != nil {
		return err
	}
	err = parallel(len(g.binSizes), func(i int) error {
		return g.writeBin(filepath.Join(dir, "bin", fmt.Sprintf("prog%03d", i)), i)
	})
	if err != nil {
		return err
	}
	if err := g.writeDB(filepath.Join(dir, "db.bin")); err != nil {
		return err
	}
	return g.writeImage(filepath.Join(dir, "disk.img"), false)
}

// change applies version ver (1: changed, 0: initial) of the items the
// change touches.
func (g *gen) change(dir string, ver int) error {
	err := parallel(len(g.srcPick), func(k int) error {
		i := g.srcPick[k]
		f, err := os.OpenFile(filepath.Join(dir, srcPath(i)), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteAt(g.srcContent(i, ver), 0)
		return errors.Join(err, f.Close())
	})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "db.bin"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, pageSize)
	picks := slices.Clone(g.pagePick)
	slices.Sort(picks)
	for _, p := range picks {
		g.page(buf, p, ver)
		if _, err := f.WriteAt(buf, int64(p)*pageSize); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return g.writeImage(filepath.Join(dir, "disk.img"), ver == 1)
}

// --- source-like text

var (
	keywords = strings.Fields("func return if else for range var const type struct interface map chan go defer switch case default break continue package import nil true false err ctx int string byte error bool uint64 len make append")
	syll     = strings.Fields("ba ce di fo gu ha je ki lo mu na pe ri so tu va we xi yo zu st tr pl gr ch sh th ck")
	vocab    = func() []string {
		r := rand.New(rand.NewPCG(99, 7))
		var v []string
		for range 400 {
			var b strings.Builder
			for range 2 + r.IntN(3) {
				b.WriteString(syll[r.IntN(len(syll))])
			}
			if r.IntN(3) == 0 {
				s := b.String()
				b.Reset()
				b.WriteString(strings.ToUpper(s[:1]) + s[1:])
			}
			v = append(v, b.String())
		}
		return v
	}()
)

// srcContent returns source file i; version 1 differs from 0 in a tenth of
// the file a third of the way in (same length).
func (g *gen) srcContent(i, ver int) []byte {
	n := g.srcSizes[i]
	b := codeText(g.rng(kindSrc, i, 0), n)
	if ver != 0 {
		lo := n / 3
		copy(b[lo:], codeText(g.rng(kindSrc, i, ver), max(1, n/10)))
	}
	return b
}

func codeText(r *rand.Rand, n int) []byte {
	out := make([]byte, 0, n+256)
	word := func() string {
		// Zipf-like: small indexes are much more frequent.
		x := r.Float64()
		return vocab[int(x*x*x*x*float64(len(vocab)))]
	}
	depth := 0
	var recent []string // recent lines: code repeats itself (boilerplate)
	for len(out) < n {
		if len(recent) > 8 && r.IntN(100) < 45 {
			out = append(out, recent[r.IntN(len(recent))]...)
			continue
		}
		start := len(out)
		for range depth {
			out = append(out, '\t')
		}
		switch r.IntN(10) {
		case 0:
			out = fmt.Appendf(out, "func (%s *%s) %s(%s %s) error {\n", word()[:1], word(), word(), word(), keywords[r.IntN(len(keywords))])
			depth = 1
		case 1:
			out = fmt.Appendf(out, "if err := %s.%s(ctx, %s); err != nil {\n", word(), word(), word())
			depth++
		case 2:
			if depth > 0 {
				depth--
			}
			out = append(out, "}\n"...)
		case 3:
			out = fmt.Appendf(out, "// %s %s the %s of %s %d.\n", word(), word(), word(), word(), r.IntN(1000))
		case 4:
			out = fmt.Appendf(out, "return fmt.Errorf(\"%s %%s: %%w\", %s, err)\n", word(), word())
		default:
			out = fmt.Appendf(out, "%s := %s(%s, %d)\n", word(), word(), word(), r.IntN(256))
		}
		if depth > 4 {
			depth = 4
		}
		recent = append(recent, string(out[start:]))
		if len(recent) > 48 {
			recent = recent[1:]
		}
	}
	return out[:n]
}

// --- binary-like data

func (g *gen) writeBin(path string, i int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := g.rng(kindBin, i, 0)
	rs := g.src(kindBin, i, 1)
	seg := make([]byte, 256<<10)
	for left := g.binSizes[i]; left > 0; {
		n := min(left, 4<<10+r.IntN(252<<10))
		s := seg[:n]
		switch r.IntN(3) {
		case 0: // random (compressed sections, crypto tables)
			rs.Read(s)
		case 1: // repetitive (padding, tables of similar records)
			pat := make([]byte, 16+r.IntN(240))
			rs.Read(pat)
			for j := 0; j < n; j += len(pat) {
				copy(s[j:], pat)
			}
		default: // low entropy (machine code-ish)
			for j := range s {
				x := r.Uint32()
				if x&3 == 0 {
					s[j] = byte(x >> 8)
				} else {
					s[j] = byte(x>>8) & 0x0f
				}
			}
		}
		w.Write(s)
		left -= n
	}
	return errors.Join(w.Flush(), f.Close())
}

// --- database-like file

func (g *gen) page(buf []byte, p, ver int) {
	r := g.rng(kindDB, p, ver)
	if r.IntN(2) == 0 {
		g.src(kindDB, p, ver+1000).Read(buf)
		return
	}
	out := buf[:0]
	for len(out) < pageSize-64 {
		out = fmt.Appendf(out, "row=%d;id=%08x;name=%s;qty=%d|", r.IntN(1<<20), r.Uint32(), vocab[r.IntN(64)], r.IntN(100))
	}
	clear(buf[len(out):])
}

func (g *gen) writeDB(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	buf := make([]byte, pageSize)
	for p := range g.pages {
		g.page(buf, p, 0)
		w.Write(buf)
	}
	return errors.Join(w.Flush(), f.Close())
}

// --- image with holes

// writeImage writes disk.img (through a temporary file and a rename), with
// insertLen bytes inserted into the middle when insert is set. Hole regions
// are never written.
func (g *gen) writeImage(path string, insert bool) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	at := int64(g.regions/2)*regionSize + 12345 // logical offset of the insertion
	shift := func(off int64) int64 {
		if insert && off >= at {
			return off + insertLen
		}
		return off
	}
	buf := make([]byte, regionSize)
	for reg := range g.regions {
		r := g.rng(kindImg, reg, 0)
		off := int64(reg) * regionSize
		switch k := r.IntN(3); k {
		case 0: // hole
			continue
		case 1:
			g.src(kindImg, reg, 1).Read(buf)
		default: // file-system-ish metadata: text and zeros
			clear(buf)
			for j := 0; j < regionSize-256; j += 512 {
				copy(buf[j:], fmt.Appendf(nil, "inode %d blocks %d name %s", reg*2048+j/512, r.IntN(1<<16), vocab[r.IntN(200)]))
			}
		}
		if end := off + regionSize; insert && off < at && at < end {
			if _, err := f.WriteAt(buf[:at-off], off); err != nil {
				f.Close()
				return err
			}
			if _, err := f.WriteAt(buf[at-off:], at+insertLen); err != nil {
				f.Close()
				return err
			}
			continue
		}
		if _, err := f.WriteAt(buf, shift(off)); err != nil {
			f.Close()
			return err
		}
	}
	size := int64(g.regions) * regionSize
	if insert {
		ins := make([]byte, insertLen)
		g.src(kindInsert, 0, 0).Read(ins)
		if _, err := f.WriteAt(ins, at); err != nil {
			f.Close()
			return err
		}
		size += insertLen
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// --- manifest

func manifest(dir string, out io.Writer) error {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sums := make([]string, len(paths))
	err = parallel(len(paths), func(i int) error {
		f, err := os.Open(paths[i])
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return fmt.Errorf("hash %s: %w", paths[i], err)
		}
		rel, _ := filepath.Rel(dir, paths[i])
		sums[i] = hex.EncodeToString(h.Sum(nil)) + "  " + rel
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(sums, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	w := bufio.NewWriter(out)
	for _, s := range sums {
		fmt.Fprintln(w, s)
	}
	return w.Flush()
}
