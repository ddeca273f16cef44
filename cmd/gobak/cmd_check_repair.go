package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gobak/gobak/pkg/check"
	"github.com/gobak/gobak/pkg/repo"
)

// repairLine is one repair action of check --repair --json.
type repairLine struct {
	Type    string `json:"type"` // "repair"
	Message string `json:"message"`
}

// confirmRepair asks the user to type YES unless --yes was given.
func (a *app) confirmRepair(loc location) error {
	fmt.Fprintf(a.stderr, `check --repair changes repository %s: it rebuilds the index, replaces
damaged packs (dropping the blobs that fail verification), deletes archive
records that cannot be read, and rewrites archives so that files which lost
data keep their good parts and list the lost ranges (restored as zeros).
Make a copy of the repository first if you can.
Type 'YES' to continue: `, loc)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if strings.TrimSpace(line) == "YES" {
		return nil
	}
	if err != nil && line == "" {
		return usagef("check --repair needs a confirmation: type YES, or pass --yes")
	}
	return &msgError{msg: "check --repair: not confirmed, nothing was changed", err: errAborted}
}

// errAborted marks a repair the user did not confirm.
var errAborted = errors.New("aborted")

// runRepair is check --repair: it opens the repository under an exclusive
// lock (repairing a damaged config body first if need be), repairs, and
// reports what it did and what remains.
func (a *app) runRepair(ctx context.Context, loc location, o check.Options, out *checkOutput, yes bool) (err error) {
	if !yes {
		if err := a.confirmRepair(loc); err != nil {
			return err
		}
	}
	log := func(msg string) {
		out.mu.Lock()
		defer out.mu.Unlock()
		if out.err != nil {
			return
		}
		if out.json {
			out.err = writeJSONLine(out.w, repairLine{Type: "repair", Message: msg})
			return
		}
		_, out.err = fmt.Fprintln(out.w, "repair: "+msg)
	}
	be, err := a.openBackend(ctx, loc)
	if err != nil {
		return err
	}
	s := &session{loc: loc, be: be}
	defer s.closeInto(ctx, &err)
	if s.lock, err = a.lock(ctx, loc, be, exclusiveLock); err != nil {
		return err
	}
	opts := a.repoOptions(ctx, loc)
	s.repo, err = repo.Open(ctx, be, opts)
	if errors.Is(err, repo.ErrDamaged) {
		out.problem(check.Problem{Severity: check.Damage, Kind: check.KindConfig, Message: oneLine(tidy(err.Error()))})
		done, rerr := repo.RepairConfig(ctx, be, repo.ConfigRepairOptions{Options: opts})
		if rerr != nil {
			return repoError(loc.String(), rerr)
		}
		if done.SuiteFixed {
			log("rewrote the config header: it named the wrong cipher; the sealed body was intact")
		} else {
			log("rewrote the config: its sealed body was damaged; the chunker polynomial was lost, so the next backup stores most file data again (default chunker, pack size and compression)")
		}
		s.repo, err = repo.Open(ctx, be, opts)
	}
	switch {
	case errors.Is(err, repo.ErrNoKey), errors.Is(err, repo.ErrWrongPassphrase):
		return withHint(repoError(loc.String(), err), "if the key file is damaged, restore it from an export with 'gobak key import'; a lost key cannot be rebuilt")
	case err != nil:
		return repoError(loc.String(), err)
	}
	s.repo.UseLock(s.lock)
	res, err := check.Repair(ctx, s.repo, check.RepairOptions{Options: o, Log: log}, out.problem)
	if err != nil {
		return repoError(loc.String(), err)
	}
	if res.Before.OK() {
		return out.summary(loc.String(), res.Before)
	}
	if !out.json {
		fmt.Fprintf(out.w, "Checked again after the repair:\n")
	}
	for _, p := range res.Remaining {
		out.problem(p)
	}
	if err := out.summary(loc.String(), res.After); err != nil {
		return err
	}
	lostFiles := 0
	for _, ar := range res.Archives {
		lostFiles += len(ar.Lost)
	}
	switch {
	case res.After.Damage > 0:
		return &msgError{msg: fmt.Sprintf("repository %s: %s remain after the repair (see above)", loc,
			countOf(uint64(res.After.Damage), "damage problem", "damage problems")), err: repo.ErrDamaged}
	case res.After.Warnings > 0:
		return &warningExit{msg: fmt.Sprintf("repository %s repaired, but %s remain (see above)", loc, countOf(uint64(res.After.Warnings), "warning", "warnings"))}
	case lostFiles > 0 || len(res.RecordsDeleted) > 0:
		return &warningExit{msg: fmt.Sprintf("repository %s repaired; data was lost: %s marked damaged in %s, %s deleted (see above)", loc,
			countOf(uint64(lostFiles), "file or directory", "files or directories"), countOf(uint64(len(res.Archives)), "archive", "archives"),
			countOf(uint64(len(res.RecordsDeleted)), "unreadable archive record", "unreadable archive records"))}
	}
	return nil
}
