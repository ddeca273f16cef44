package prune

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// Archive is one archive to decide about. ID is opaque to this package.
type Archive struct {
	Name string
	Time time.Time
	ID   id.ID
}

// Rule names, as borg prints them.
const (
	RuleWithin   = "within"
	RuleSecondly = "secondly"
	RuleMinutely = "minutely"
	RuleHourly   = "hourly"
	RuleDaily    = "daily"
	RuleWeekly   = "weekly"
	RuleMonthly  = "monthly"
	RuleYearly   = "yearly"
)

// Decision is the verdict on one archive.
type Decision struct {
	Archive Archive
	// Keep reports whether the archive is kept.
	Keep bool
	// Rule names the rule that kept it ("" when pruned). --keep-last is
	// reported as "secondly", as borg does.
	Rule string
	// Oldest is set when the archive is kept as the rule's oldest archive
	// because the rule could not fill its count.
	Oldest bool
	// N is the archive's number within its rule, from 1 ("daily #3").
	N int
}

// Label returns the rule as borg prints it: "daily", or "monthly[oldest]".
func (d Decision) Label() string {
	if d.Oldest {
		return d.Rule + "[oldest]"
	}
	return d.Rule
}

// String renders the decision for logs and golden files.
func (d Decision) String() string {
	if !d.Keep {
		return "prune " + d.Archive.Name
	}
	return fmt.Sprintf("keep  %s (%s #%d)", d.Archive.Name, d.Label(), d.N)
}

// periodRule is one period rule: its name, count and period key.
type periodRule struct {
	name  string
	count int
	key   func(t time.Time) string
}

func layoutKey(layout string) func(time.Time) string {
	return func(t time.Time) string { return t.Format(layout) }
}

func isoWeekKey(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-%02d", y, w)
}

func (p Policy) rules() []periodRule {
	return []periodRule{
		{RuleSecondly, p.secondly(), layoutKey("2006-01-02 15:04:05")},
		{RuleMinutely, p.Minutely, layoutKey("2006-01-02 15:04")},
		{RuleHourly, p.Hourly, layoutKey("2006-01-02 15")},
		{RuleDaily, p.Daily, layoutKey("2006-01-02")},
		{RuleWeekly, p.Weekly, isoWeekKey},
		{RuleMonthly, p.Monthly, layoutKey("2006-01")},
		{RuleYearly, p.Yearly, layoutKey("2006")},
	}
}

// Sort orders archives as Apply considers them: newest first; archives
// with the same time by name, then by ID (borg leaves this order to the
// manifest; gobak makes it deterministic).
func Sort(archives []Archive) {
	slices.SortStableFunc(archives, func(x, y Archive) int {
		if c := y.Time.Compare(x.Time); c != 0 {
			return c
		}
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return x.ID.Compare(y.ID)
	})
}

// Apply decides for every archive whether p keeps it, with now the current
// time (for Within) and loc the time zone in which periods are computed
// (nil means UTC). It returns one Decision per archive, sorted as by Sort.
// The input slice is not modified. Apply is safe for concurrent use.
func Apply(archives []Archive, p Policy, now time.Time, loc *time.Location) []Decision {
	if loc == nil {
		loc = time.UTC
	}
	sorted := slices.Clone(archives)
	Sort(sorted)
	out := make([]Decision, len(sorted))
	for i, a := range sorted {
		out[i].Archive = a
	}
	if p.Within > 0 {
		target := now.Add(-p.Within)
		n := 0
		for i := range out {
			if out[i].Archive.Time.After(target) {
				n++
				out[i] = Decision{Archive: out[i].Archive, Keep: true, Rule: RuleWithin, N: n}
			}
		}
	}
	for _, r := range p.rules() {
		applyRule(out, r, loc)
	}
	return out
}

// applyRule runs one period rule over ds (sorted newest first), marking the
// archives it keeps.
func applyRule(ds []Decision, r periodRule, loc *time.Location) {
	if r.count == 0 || len(ds) == 0 {
		return
	}
	kept := 0
	last, haveLast := "", false
	for i := range ds {
		period := r.key(ds[i].Archive.Time.In(loc))
		if haveLast && period == last {
			continue
		}
		last, haveLast = period, true
		if ds[i].Keep {
			continue // uses up its period, counts for its own rule only
		}
		kept++
		ds[i].Keep, ds[i].Rule, ds[i].N = true, r.name, kept
		if kept == r.count {
			return
		}
	}
	// The rule ran out of archives before its count: keep the oldest.
	oldest := &ds[len(ds)-1]
	if r.count > 0 && kept < r.count && !oldest.Keep {
		kept++
		oldest.Keep, oldest.Rule, oldest.Oldest, oldest.N = true, r.name, true, kept
	}
}
