package archive

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// ErrArchiveNotFound is returned when no archive has the requested name.
var ErrArchiveNotFound = errors.New("archive not found")

// Entry is one archive of a repository: its record ID and decoded record.
type Entry struct {
	ID     id.ID
	Record *Record
	Time   time.Time // Record.Start parsed
}

// ListArchives loads every archive record, sorted by start time (oldest
// first, then by name). Records that fail to load or decode are returned
// in bad (by ID) and left out of the list, so one damaged record does not
// hide the others.
func ListArchives(ctx context.Context, as ArchiveStore) (list []Entry, bad map[id.ID]error, err error) {
	ids, err := as.ListArchives(ctx)
	if err != nil {
		return nil, nil, err
	}
	bad = map[id.ID]error{}
	for _, a := range ids.Sorted() {
		data, err := as.LoadArchive(ctx, a)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			bad[a] = err
			continue
		}
		rec, err := DecodeRecord(data)
		if err != nil {
			bad[a] = fmt.Errorf("archive %s: %w", a.Short(), err)
			continue
		}
		t, _ := rec.StartTime()
		list = append(list, Entry{ID: a, Record: rec, Time: t})
	}
	slices.SortFunc(list, func(x, y Entry) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		if x.Record.Name < y.Record.Name {
			return -1
		}
		if x.Record.Name > y.Record.Name {
			return 1
		}
		return x.ID.Compare(y.ID)
	})
	return list, bad, nil
}

// FindByName returns the archive with the given name.
func FindByName(list []Entry, name string) (Entry, error) {
	for _, e := range list {
		if e.Record.Name == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: %q", ErrArchiveNotFound, name)
}

// MatchGlob returns the archives whose names match a shell glob (as
// --glob-archives: '*' and '?' and '[...]' within the name).
func MatchGlob(list []Entry, glob string) ([]Entry, error) {
	if _, err := path.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("bad archive glob %q: %w", glob, err)
	}
	var out []Entry
	for _, e := range list {
		if ok, _ := path.Match(glob, e.Record.Name); ok {
			out = append(out, e)
		}
	}
	return out, nil
}
