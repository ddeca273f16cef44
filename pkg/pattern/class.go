package pattern

import (
	"fmt"
	"slices"
	"strings"
)

// Bracket expressions ("[a-z]", "[!...]") of fm: and sh: patterns.

// runeRange is an inclusive range of characters.
type runeRange struct{ lo, hi rune }

// charClass is a bracket expression.
type charClass struct {
	neg    bool
	ranges []runeRange
}

func (c *charClass) has(r rune) bool {
	for _, rg := range c.ranges {
		if rg.lo <= r && r <= rg.hi {
			return !c.neg
		}
	}
	return c.neg
}

// classEnd returns the index of the ']' closing the bracket expression that
// starts at s[i] == '[', or -1 if there is none (the '[' is then literal). A
// ']' right after "[" or "[!" belongs to the set.
func classEnd(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '!' {
		j++
	}
	if j < len(s) && s[j] == ']' {
		j++
	}
	k := strings.IndexByte(s[j:], ']')
	if k < 0 {
		return -1
	}
	return j + k
}

// parseClass parses the text between '[' and ']' of an fm: (shell=false) or
// sh: (shell=true) pattern. A leading '!' negates, "a-z" is a range, and a '-'
// first or last is literal; backslash has no special meaning.
func parseClass(body string, shell bool) (*charClass, error) {
	var rs []rune
	for i := 0; i < len(body); {
		r, w := decodeRune(body[i:])
		rs = append(rs, r)
		i += w
	}
	if !shell {
		return fnmatchClass(rs), nil
	}
	// borg hands the set to Python's regexp parser: ranges are read left to
	// right, and a reversed range is an error.
	c := &charClass{}
	if len(rs) > 0 && rs[0] == '!' {
		c.neg = true
		rs = rs[1:]
	}
	for p := 0; p < len(rs); {
		if p+2 < len(rs) && rs[p+1] == '-' {
			lo, hi := rs[p], rs[p+2]
			if lo > hi {
				return nil, fmt.Errorf("bad character range %s-%s", string(lo), string(hi))
			}
			c.ranges = append(c.ranges, runeRange{lo, hi})
			p += 3
			continue
		}
		c.ranges = append(c.ranges, runeRange{rs[p], rs[p]})
		p++
	}
	return c, nil
}

// fnmatchClass builds a set the way Python's fnmatch.translate does (CPython
// 3.11): the text is cut into chunks at the '-' characters that act as range
// operators, reversed ("empty") ranges are removed by merging the chunks
// around them, and '!' at the start of the result negates. A consequence, kept
// for fidelity, is that removing a leading reversed range can expose a '!'
// ("[c-a!b]" is "[!b]").
func fnmatchClass(rs []rune) *charClass {
	var chunks [][]rune
	if slices.Contains(rs, '-') {
		i, k := 0, 1
		if rs[0] == '!' {
			k = 2
		}
		for {
			off := -1
			if k < len(rs) {
				off = slices.Index(rs[k:], '-')
			}
			if off < 0 {
				break
			}
			k += off
			chunks = append(chunks, rs[i:k:k])
			i, k = k+1, k+3
		}
		if i < len(rs) {
			chunks = append(chunks, rs[i:])
		} else {
			last := len(chunks) - 1
			chunks[last] = append(chunks[last], '-')
		}
		for k := len(chunks) - 1; k > 0; k-- {
			a, b := chunks[k-1], chunks[k]
			if a[len(a)-1] > b[0] {
				chunks[k-1] = append(a[:len(a)-1:len(a)-1], b[1:]...)
				chunks = slices.Delete(chunks, k, k+1)
			}
		}
	} else {
		chunks = [][]rune{rs}
	}
	// Tokens: the characters of the chunks, with a range operator between
	// consecutive chunks.
	type tok struct {
		r  rune
		op bool
	}
	var toks []tok
	for k, ch := range chunks {
		if k > 0 {
			toks = append(toks, tok{op: true})
		}
		for _, r := range ch {
			toks = append(toks, tok{r: r})
		}
	}
	c := &charClass{}
	if len(toks) > 0 && !toks[0].op && toks[0].r == '!' {
		c.neg = true
		toks = toks[1:]
	}
	for p := 0; p < len(toks); {
		if !toks[p].op && p+2 < len(toks) && toks[p+1].op && !toks[p+2].op {
			if lo, hi := toks[p].r, toks[p+2].r; lo <= hi {
				c.ranges = append(c.ranges, runeRange{lo, hi})
			}
			p += 3
			continue
		}
		r := toks[p].r
		if toks[p].op {
			r = '-'
		}
		c.ranges = append(c.ranges, runeRange{r, r})
		p++
	}
	return c
}
