package pattern

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// This file compiles fm: and sh: patterns into a small NFA and runs it over a
// path. It mirrors how borg translates these patterns into Python regular
// expressions (fnmatch.translate and borg's shellpattern.translate) without
// going through a regexp engine, so it works on raw bytes and runs in
// O(len(path) * len(pattern)) time with no backtracking.

// Node kinds. Each node consumes one character (code point or invalid byte).
const (
	kLit         uint8 = iota // the character r
	kAny                      // any character
	kAnyNoSlash               // any character but '/'
	kClass                    // a character in cls
	kStar                     // zero or more characters (loops on itself)
	kStarNoSlash              // zero or more characters but '/'
	kDirs                     // "**/": boundary state of (?:[^/]*/)*
	kDirsName                 // "**/": inside a directory name
)

type node struct {
	kind uint8
	r    rune
	cls  *charClass
}

// glob is a compiled fm: or sh: pattern, matched against path+"/" as a whole
// (borg appends "/*" or "/**/*" to the pattern and "/" to the path). State
// sets are bitsets over node indices; node len(nodes) is the accepting state.
type glob struct {
	prefix string // literal bytes every matching input starts with
	need   string // literal bytes every matching input contains after prefix
	start  int    // node after the literal prefix
	nodes  []node
	skip   []int // ε-successor of each node, or -1 (stars and "**/" may match nothing)

	// Patterns with fewer than 64 nodes use one-word state sets.
	closure    []uint64 // closure[j]: j and everything reachable from it by ε
	starAccept uint64   // kStar nodes from which acceptance is reachable by ε

	// Larger patterns use multi-word state sets.
	words          int
	starAcceptWide []uint64
}

// decodeRune decodes one character of s (len(s) > 0). Bytes that are not part
// of a valid UTF-8 sequence decode one by one to U+DC80..U+DCFF, as Python's
// surrogateescape does, so they never equal a valid character.
func decodeRune(s string) (rune, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, w := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && w == 1 {
		return 0xDC00 + rune(s[0]), 1
	}
	return r, w
}

// compileGlob compiles a prepared fm: (shell=false) or sh: (shell=true)
// pattern. Only sh: patterns can fail: a reversed range such as "[z-a]" is an
// error there (a Python regexp error in borg) but is ignored by fm:.
func compileGlob(s string, shell bool) (*glob, error) {
	var nodes []node
	var pos []int // pos[j]: offset in s where the text of node j starts
	add := func(at int, ns ...node) {
		for _, n := range ns {
			nodes = append(nodes, n)
			pos = append(pos, at)
		}
	}
	for i := 0; i < len(s); {
		r, w := decodeRune(s[i:])
		switch {
		case r == '*' && shell && strings.HasPrefix(s[i+1:], "*/"):
			add(i, node{kind: kDirs}, node{kind: kDirsName})
			i += 3
		case r == '*' && shell:
			add(i, node{kind: kStarNoSlash})
			i++
		case r == '*':
			add(i, node{kind: kStar})
			i++
		case r == '?' && shell:
			add(i, node{kind: kAnyNoSlash})
			i++
		case r == '?':
			add(i, node{kind: kAny})
			i++
		case r == '[' && classEnd(s, i) >= 0:
			end := classEnd(s, i)
			cls, err := parseClass(s[i+1:end], shell)
			if err != nil {
				return nil, err
			}
			add(i, node{kind: kClass, cls: cls})
			i = end + 1
		default: // including a '[' that is never closed
			add(i, node{kind: kLit, r: r})
			i += w
		}
	}
	pos = append(pos, len(s))
	return newGlob(s, nodes, pos), nil
}

// newGlob computes the literal prefix, the longest other literal run and the
// ε-closures of nodes; pos[j] is where node j's text starts in s.
func newGlob(s string, nodes []node, pos []int) *glob {
	g := &glob{nodes: nodes}
	// The literal prefix covers leading literal nodes that came from valid
	// UTF-8, so that a prefix match always ends on a character boundary.
	for g.start < len(nodes) && nodes[g.start].kind == kLit {
		if r := nodes[g.start].r; r >= 0xDC80 && r <= 0xDCFF && pos[g.start+1]-pos[g.start] == 1 {
			break
		}
		g.start++
	}
	g.prefix = s[:pos[g.start]]
	// Any match contains the bytes of every run of literal nodes; the longest
	// one after the prefix serves as a quick substring filter.
	for j := g.start; j < len(nodes); {
		if nodes[j].kind != kLit {
			j++
			continue
		}
		k := j
		for k < len(nodes) && nodes[k].kind == kLit {
			k++
		}
		if run := s[pos[j]:pos[k]]; len(run) > len(g.need) {
			g.need = run
		}
		j = k
	}

	m := len(nodes)
	g.skip = make([]int, m)
	for j, n := range nodes {
		switch n.kind {
		case kStar, kStarNoSlash:
			g.skip[j] = j + 1
		case kDirs:
			g.skip[j] = j + 2
		default:
			g.skip[j] = -1
		}
	}
	// accepts[j]: the accepting state is reachable from j by ε.
	accepts := make([]bool, m+1)
	accepts[m] = true
	for j := m - 1; j >= 0; j-- {
		accepts[j] = g.skip[j] >= 0 && accepts[g.skip[j]]
	}
	g.words = (m + 1 + 63) / 64
	if g.words == 1 {
		g.closure = make([]uint64, m+1)
		g.closure[m] = 1 << m
		for j := m - 1; j >= 0; j-- {
			g.closure[j] = 1 << j
			if g.skip[j] >= 0 {
				g.closure[j] |= g.closure[g.skip[j]]
			}
			if nodes[j].kind == kStar && accepts[j] {
				g.starAccept |= 1 << j
			}
		}
		return g
	}
	g.starAcceptWide = make([]uint64, g.words)
	for j, n := range nodes {
		if n.kind == kStar && accepts[j] {
			g.starAcceptWide[j/64] |= 1 << (j % 64)
		}
	}
	return g
}

// target returns the node reached from node j on character r, or -1.
func (g *glob) target(j int, r rune) int {
	n := &g.nodes[j]
	switch n.kind {
	case kLit:
		if r == n.r {
			return j + 1
		}
	case kAny:
		return j + 1
	case kAnyNoSlash:
		if r != '/' {
			return j + 1
		}
	case kClass:
		if n.cls.has(r) {
			return j + 1
		}
	case kStar:
		return j
	case kStarNoSlash:
		if r != '/' {
			return j
		}
	case kDirs:
		if r == '/' {
			return j
		}
		return j + 1
	case kDirsName:
		if r == '/' {
			return j - 1
		}
		return j
	}
	return -1
}

// match reports whether the pattern matches path+"/" in full.
func (g *glob) match(path string) bool {
	rest, slash := "", true
	switch p := g.prefix; {
	case len(p) <= len(path):
		if path[:len(p)] != p {
			return false
		}
		rest = path[len(p):]
	case len(p) == len(path)+1 && p[len(path)] == '/' && p[:len(path)] == path:
		slash = false // the prefix already consumed the appended '/'
	default:
		return false
	}
	if n := g.need; n != "" && !strings.Contains(rest, n) &&
		(!slash || n[len(n)-1] != '/' || !strings.HasSuffix(rest, n[:len(n)-1])) {
		return false
	}
	if g.words == 1 {
		return g.matchSmall(rest, slash)
	}
	return g.matchWide(rest, slash)
}

func (g *glob) stepSmall(cur uint64, r rune) uint64 {
	var next uint64
	m := len(g.nodes)
	for cur != 0 {
		j := bits.TrailingZeros64(cur)
		cur &= cur - 1
		if j == m {
			continue
		}
		if t := g.target(j, r); t >= 0 {
			next |= g.closure[t]
		}
	}
	return next
}

func (g *glob) matchSmall(rest string, slash bool) bool {
	cur := g.closure[g.start]
	for i := 0; i < len(rest); {
		if cur&g.starAccept != 0 {
			return true
		}
		r, w := decodeRune(rest[i:])
		i += w
		if cur = g.stepSmall(cur, r); cur == 0 {
			return false
		}
	}
	if slash {
		cur = g.stepSmall(cur, '/')
	}
	return cur&(1<<len(g.nodes)) != 0
}

// addWide adds node t and its ε-successors to set. A node already present
// had its successors added with it, so every node is visited at most once
// per step and a step costs O(len(nodes)).
func (g *glob) addWide(set []uint64, t int) {
	for t >= 0 {
		w, b := t/64, uint64(1)<<(t%64)
		if set[w]&b != 0 {
			return
		}
		set[w] |= b
		if t == len(g.nodes) {
			return
		}
		t = g.skip[t]
	}
}

// matchWide is matchSmall for patterns with 64 or more nodes.
func (g *glob) matchWide(rest string, slash bool) bool {
	m := len(g.nodes)
	cur := make([]uint64, g.words)
	next := make([]uint64, g.words)
	g.addWide(cur, g.start)
	step := func(r rune) bool {
		clear(next)
		moved := false
		for w, word := range cur {
			for word != 0 {
				j := w*64 + bits.TrailingZeros64(word)
				word &= word - 1
				if j == m {
					continue
				}
				if t := g.target(j, r); t >= 0 {
					g.addWide(next, t)
					moved = true
				}
			}
		}
		cur, next = next, cur
		return moved
	}
	for i := 0; i < len(rest); {
		for w, word := range cur {
			if word&g.starAcceptWide[w] != 0 {
				return true
			}
		}
		r, w := decodeRune(rest[i:])
		i += w
		if !step(r) {
			return false
		}
	}
	if slash {
		step('/')
	}
	return cur[m/64]&(1<<(m%64)) != 0
}
