package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/gobak/gobak/pkg/id"
)

// ErrBadSubset is wrapped by ParseSubset's errors.
var ErrBadSubset = errors.New("bad data subset")

// Subset selects the packs whose data a check reads, so that a large
// repository can be verified piecewise. The zero Subset selects nothing;
// use ParseSubset.
//
// A pack's position is the first 8 bytes of its ID read as a big-endian
// fraction of 2^64. Pack IDs are BLAKE3 hashes, so positions are uniform,
// and a pack keeps its position for life.
//
//   - "N/M" (Part N of M parts, 1 <= N <= M): the packs whose position
//     lies in [(N-1)/M, N/M). Running 1/M, 2/M, ..., M/M covers every pack
//     exactly once.
//   - "P%" (0 < P <= 100): a window of width P% starting at
//     (Rotation mod R) * P%, where R = ceil(100/P), wrapping around.
//     Successive rotation values 0, 1, ..., R-1 cover every pack (at least)
//     once. gobak check uses the number of whole weeks since the Unix
//     epoch as the rotation (or --seed), so weekly runs of "10%" cover the
//     whole repository every 10 weeks.
type Subset struct {
	// Part and Parts select part Part of Parts (1-based); Parts is 0 for
	// a percentage.
	Part, Parts uint64
	// Percent is the share of packs selected, in (0, 100].
	Percent float64
	// Rotation chooses the window of a percentage subset.
	Rotation uint64
}

// ParseSubset parses "N/M" or "P%" (P may have decimals). The rotation of a
// percentage is set to rotation. Errors wrap ErrBadSubset.
func ParseSubset(s string, rotation uint64) (Subset, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
			return Subset{}, fmt.Errorf("%w: %q: want a percentage in (0, 100]", ErrBadSubset, s)
		}
		return Subset{Percent: v, Rotation: rotation}, nil
	}
	ns, ms, ok := strings.Cut(s, "/")
	if !ok {
		return Subset{}, fmt.Errorf("%w: %q: want N/M or P%%", ErrBadSubset, s)
	}
	n, err1 := strconv.ParseUint(strings.TrimSpace(ns), 10, 64)
	m, err2 := strconv.ParseUint(strings.TrimSpace(ms), 10, 64)
	if err1 != nil || err2 != nil || n < 1 || m < 1 || n > m {
		return Subset{}, fmt.Errorf("%w: %q: want N/M with 1 <= N <= M", ErrBadSubset, s)
	}
	return Subset{Part: n, Parts: m}, nil
}

// String renders the subset as ParseSubset reads it.
func (s Subset) String() string {
	if s.Parts > 0 {
		return fmt.Sprintf("%d/%d", s.Part, s.Parts)
	}
	return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
}

// Selects reports whether the subset selects the pack.
func (s Subset) Selects(pack id.ID) bool {
	pos := binary.BigEndian.Uint64(pack[:8])
	if s.Parts > 0 {
		if s.Part < 1 || s.Part > s.Parts {
			return false
		}
		// pos*Parts / 2^64 is the 0-based part, computed without overflow.
		hi, _ := bits.Mul64(pos, s.Parts)
		return hi == s.Part-1
	}
	if !(s.Percent > 0) {
		return false
	}
	if s.Percent >= 100 {
		return true
	}
	w := s.Percent / 100
	r := uint64(math.Ceil(100 / s.Percent))
	start := float64(s.Rotation%r) * w
	x := float64(pos) / (1 << 64)
	d := x - start
	if d < 0 {
		d++
	}
	return d < w
}
