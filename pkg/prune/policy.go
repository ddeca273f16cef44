package prune

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ErrBadInterval is returned by ParseWithin for a malformed interval.
var ErrBadInterval = errors.New("bad interval")

// Policy is a retention policy. For every count, 0 turns the rule off and a
// negative number means unlimited. Last and Secondly are the same rule
// (borg's --keep-last is --keep-secondly); when both are non-zero,
// Secondly wins. The zero Policy keeps nothing; see Empty.
type Policy struct {
	// Within keeps every archive younger than this (0: off).
	Within time.Duration
	// Last is an alias of Secondly.
	Last     int
	Secondly int
	Minutely int
	Hourly   int
	Daily    int
	Weekly   int
	Monthly  int
	Yearly   int
}

// Empty reports whether p has no rule at all. Callers should refuse to
// prune with an empty policy, which would delete every archive.
func (p Policy) Empty() bool {
	return p.Within <= 0 && p.Last == 0 && p.Secondly == 0 && p.Minutely == 0 &&
		p.Hourly == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 && p.Yearly == 0
}

// secondly returns the effective count of the secondly rule.
func (p Policy) secondly() int {
	if p.Secondly != 0 {
		return p.Secondly
	}
	return p.Last
}

// intervalUnits maps borg's interval suffixes to durations.
var intervalUnits = map[byte]time.Duration{
	'H': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
	'm': 31 * 24 * time.Hour,
	'y': 365 * 24 * time.Hour,
}

// ParseWithin parses a --keep-within interval as borg does: a positive
// integer followed by one unit letter, H (hours), d (days), w (weeks),
// m (31 days) or y (365 days), as in "36H" or "2w". It returns an error
// wrapping ErrBadInterval for anything else, and for intervals longer than
// a time.Duration holds (about 292 years).
func ParseWithin(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrBadInterval)
	}
	unit, ok := intervalUnits[s[len(s)-1]]
	if !ok {
		return 0, fmt.Errorf("%w %q: unexpected time unit %q, expected one of H, d, w, m, y", ErrBadInterval, s, s[len(s)-1:])
	}
	digits := s[:len(s)-1]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("%w %q: expected a whole number before the unit", ErrBadInterval, s)
		}
	}
	limit := int64(math.MaxInt64 / unit)
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > limit {
		return 0, fmt.Errorf("%w %q: expected a number from 1 to %d before the unit", ErrBadInterval, s, limit)
	}
	return time.Duration(n) * unit, nil
}
