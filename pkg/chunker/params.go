package chunker

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Bounds on chunk sizes accepted by Validate. The lower bound is the
// fingerprint's window size.
const (
	MinChunkSize = 64
	MaxChunkSize = 64 << 20
)

// ErrInvalidParams is wrapped by the errors of ParseParams and Validate.
var ErrInvalidParams = errors.New("invalid chunker params")

// Params are the chunk size bounds, in bytes. Chunks are at least Min and at
// most Max bytes long, except that the last chunk of a stream may be
// shorter than Min.
//
// After the first Min bytes of a chunk, each position is a cut point with
// probability 1/Avg (the fingerprint's low log2(Avg) bits are all zero), so
// Avg must be a power of two. On random data the mean chunk size is thus
// about Min+Avg, limited by Max: 1.5 MiB with DefaultParams.
type Params struct {
	Min uint32 `json:"min"`
	Avg uint32 `json:"avg"`
	Max uint32 `json:"max"`
}

// DefaultParams returns Min 512 KiB, Avg 1 MiB, Max 8 MiB, restic's sizes.
func DefaultParams() Params {
	return Params{Min: 512 << 10, Avg: 1 << 20, Max: 8 << 20}
}

// Validate checks 64 <= Min < Avg < Max <= 64 MiB with Avg a power of two.
// Errors wrap ErrInvalidParams.
func (p Params) Validate() error {
	if msg := p.check(); msg != "" {
		return fmt.Errorf("%w: %s", ErrInvalidParams, msg)
	}
	return nil
}

// check returns what is wrong with p, or "".
func (p Params) check() string {
	switch {
	case p.Min < MinChunkSize:
		return fmt.Sprintf("min %d is below %d", p.Min, MinChunkSize)
	case p.Max > MaxChunkSize:
		return fmt.Sprintf("max %d is above %d (64 MiB)", p.Max, MaxChunkSize)
	case !(p.Min < p.Avg && p.Avg < p.Max):
		return fmt.Sprintf("want min < avg < max, got %d, %d, %d", p.Min, p.Avg, p.Max)
	case bits.OnesCount32(p.Avg) != 1:
		return fmt.Sprintf("avg %d is not a power of two", p.Avg)
	}
	return ""
}

// avgBits returns log2(Avg) for a valid Params.
func (p Params) avgBits() int {
	return bits.TrailingZeros32(p.Avg)
}

// String returns the canonical form "MIN,AVG,MAX" in bytes, e.g.
// "524288,1048576,8388608", which ParseParams parses back.
func (p Params) String() string {
	return fmt.Sprintf("%d,%d,%d", p.Min, p.Avg, p.Max)
}

// ParseParams parses "MIN,AVG,MAX". Each size is a decimal number of bytes
// with an optional binary unit: K, KB, KiB (1024), M, MB, MiB, G, GB, GiB
// (case-insensitive; every unit is a power of 1024), e.g. "512K,1M,8MiB" or
// "524288,1048576,8388608". If all three are unit-less numbers no larger
// than 30, they are exponents of two, so "19,20,23" is 512 KiB, 1 MiB,
// 8 MiB. Note the order is MIN,AVG,MAX; borg's --chunker-params lists
// min, max, mask bits instead, and its buzhash form is not accepted.
// The result is validated; errors wrap ErrInvalidParams and quote s.
func ParseParams(s string) (Params, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, fmt.Errorf("%w: %q: want MIN,AVG,MAX, e.g. 512K,1M,8M", ErrInvalidParams, truncate(s))
	}
	var vals [3]uint64
	exponents := true
	for i, f := range fields {
		v, unitless, err := parseSize(f)
		if err != nil {
			return Params{}, fmt.Errorf("%w: %q: %s", ErrInvalidParams, truncate(s), err)
		}
		vals[i] = v
		exponents = exponents && unitless && v <= 30
	}
	if exponents {
		for i := range vals {
			vals[i] = 1 << vals[i]
		}
	}
	var p Params
	for i, dst := range []*uint32{&p.Min, &p.Avg, &p.Max} {
		if vals[i] > MaxChunkSize {
			return Params{}, fmt.Errorf("%w: %q: %s is above %d (64 MiB)", ErrInvalidParams, truncate(s), []string{"min", "avg", "max"}[i], MaxChunkSize)
		}
		*dst = uint32(vals[i])
	}
	if msg := p.check(); msg != "" {
		return Params{}, fmt.Errorf("%w: %q: %s", ErrInvalidParams, truncate(s), msg)
	}
	return p, nil
}

// units maps lower-case unit suffixes to their multipliers.
var units = map[string]uint64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// parseSize parses one size field and reports whether it had no unit.
func parseSize(f string) (v uint64, unitless bool, err error) {
	f = strings.TrimSpace(f)
	i := 0
	for i < len(f) && f[i] >= '0' && f[i] <= '9' {
		i++
	}
	num, unit := f[:i], strings.ToLower(strings.TrimSpace(f[i:]))
	if num == "" {
		return 0, false, fmt.Errorf("size %q is not a number", f)
	}
	mult, ok := units[unit]
	if !ok {
		return 0, false, fmt.Errorf("size %q has unknown unit %q (want K, M or G)", f, f[i:])
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > MaxChunkSize {
		return 0, false, fmt.Errorf("size %q is too large", f)
	}
	return n * mult, unit == "", nil
}
