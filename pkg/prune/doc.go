// Package prune decides which archives a retention policy keeps.
//
// The policy follows BorgBackup 1.2's prune exactly. Archives are considered
// newest first. --keep-within keeps every archive younger than the
// interval. Then the period rules run from the finest to the coarsest
// (secondly, which --keep-last is another name for, minutely, hourly, daily,
// weekly with ISO weeks, monthly, yearly). Each rule walks the archives
// newest first and keeps the first (newest) archive of every period it has
// not seen yet, computing periods in the given time zone. An archive already
// kept by an earlier rule still marks its period as seen, but is not kept or
// counted again. A negative count is unlimited. A rule that ran out of
// archives before reaching its count also keeps the oldest archive, unless
// that one is already kept (borg reports it as "RULE[oldest]").
//
// The package is pure: Apply reads no clock and no environment, so the
// current time and the time zone are parameters.
package prune
