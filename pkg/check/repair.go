package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo"
)

// RepairOptions control Repair.
type RepairOptions struct {
	// Options say how the checks before and after the repair read the
	// repository (VerifyData, Subset, Workers, Hostname, Progress).
	// RepositoryOnly, ArchivesOnly and Archive must not be set: a repair
	// always covers the whole repository.
	Options
	// Log receives one line for every change the repair makes. Calls are
	// never concurrent.
	Log func(string)
	// Now is the time recorded in the warnings of rewritten archives
	// (default time.Now).
	Now func() time.Time
}

// ArchiveRepair describes one archive record that Repair rewrote.
type ArchiveRepair struct {
	Name     string
	Old, New id.ID // record IDs
	// Lost lists the files and directories that lost data.
	Lost []archive.Lost
}

// RepairResult reports what Repair found and did.
type RepairResult struct {
	// Before is the summary of the check that found the problems.
	Before Summary
	// Rebuilt is set when the index files were rebuilt from the pack
	// trailers, and Salvaged when damaged packs were replaced.
	Rebuilt  *repo.RebuildResult
	Salvaged *repo.SalvageResult
	// RecordsDeleted lists archive records that could not be decrypted or
	// decoded, and were deleted.
	RecordsDeleted []id.ID
	// Archives lists the archives rewritten to reference only blobs that
	// exist.
	Archives []ArchiveRepair
	// After is the summary of the check run after the repair, and
	// Remaining the problems it still found.
	After     Summary
	Remaining []Problem
}

// repoKinds are the problem kinds an index rebuild and a pack salvage
// address.
var repoKinds = map[string]bool{
	KindIndexFile: true, KindIndexConflict: true, KindIndexMismatch: true, KindMissingPack: true,
	KindOrphanPack: true, KindPackTrailer: true, KindPackHash: true, KindBlobDamaged: true, KindMissingBlob: true,
}

// salvageKinds are the problem kinds whose pack is replaced by Salvage.
var salvageKinds = map[string]bool{
	KindPackTrailer: true, KindPackHash: true, KindBlobDamaged: true, KindMissingPack: true,
}

// Repair checks the repository r like Check (reporting every problem found
// to report), and if problems were found, repairs what can be repaired:
//
//   - index files are rebuilt from the pack trailers (repo.RebuildIndex);
//   - packs that are damaged (bad trailer, content not matching the name,
//     a blob failing verification) are replaced by new packs holding the
//     blobs that still verify, and packs no index can name are deleted
//     (repo.Salvage);
//   - archive records that cannot be decrypted or decoded are deleted;
//   - archives that reference lost blobs are rewritten: lost file data
//     becomes holes recorded in Node.Damaged (extracted as zeros with a
//     warning), directories whose tree is lost become empty, and the
//     record's Warnings say what was lost. The next backup reads such files
//     again, so an intact source heals them in new archives.
//
// Then it checks again and returns what remains. The caller must hold an
// exclusive lock (repo.AcquireLock) and should have asked the user. The
// config and key files are not repaired here (see repo.RepairConfig); a
// repository whose config or key cannot be read does not open at all.
// The error is non-nil when the repair could not be carried out; problems
// that remain after it are in the result.
func Repair(ctx context.Context, r *repo.Repo, o RepairOptions, report func(Problem)) (*RepairResult, error) {
	if o.RepositoryOnly || o.ArchivesOnly || o.Archive != "" {
		return nil, fmt.Errorf("repair: %w: a repair covers the whole repository", ErrOptions)
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if report == nil {
		report = func(Problem) {}
	}
	var found []Problem
	before, err := Check(ctx, r, o.Options, func(p Problem) {
		found = append(found, p)
		report(p)
	})
	res := &RepairResult{Before: before}
	if err != nil {
		return res, err
	}
	if before.OK() {
		res.After = before
		return res, nil
	}
	if before.Packs > 0 && before.PacksTrailer == 0 && before.IndexedBlobs == 0 {
		return res, fmt.Errorf("repair: %w: no pack trailer and no index file authenticates with this key; "+
			"refusing to change anything (is the config damaged, or is this the key of another repository?)", repo.ErrDamaged)
	}
	if !o.VerifyData && o.Subset == nil {
		o.Log("without --verify-data, blobs whose content is damaged are not found; run check --repair --verify-data to find and drop them")
	}
	if err := repairRepository(ctx, r, found, res, o.Log); err != nil {
		return res, err
	}
	if err := repairArchives(ctx, r, res, o); err != nil {
		return res, err
	}
	res.After, err = Check(ctx, r, o.Options, func(p Problem) { res.Remaining = append(res.Remaining, p) })
	return res, err
}

// repairRepository rebuilds the index and salvages damaged packs if any
// problem found calls for it.
func repairRepository(ctx context.Context, r *repo.Repo, found []Problem, res *RepairResult, log func(string)) error {
	need := false
	damaged := id.NewSet()
	for _, p := range found {
		need = need || repoKinds[p.Kind]
		if salvageKinds[p.Kind] && !p.Pack.IsNull() {
			damaged.Insert(p.Pack)
		}
		if p.Kind == KindTree && !p.Blob.IsNull() {
			// A tree that does not load: if it is indexed, its pack is
			// verified, so that a damaged tree blob is dropped rather
			// than kept for later backups to deduplicate against.
			if loc, ok, err := r.Lookup(p.Blob); err == nil && ok {
				need = true
				damaged.Insert(loc.Pack)
			}
		}
	}
	if !need {
		return nil
	}
	rb, err := r.RebuildIndex(ctx)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	res.Rebuilt = rb
	log(fmt.Sprintf("rebuilt the index from the trailers of %s (%s): wrote %s, removed %d",
		plural(rb.Packs, "pack"), plural(rb.Blobs, "blob"), plural(len(rb.Written), "index file"), len(rb.Removed)))
	for _, p := range rb.Carried {
		log(fmt.Sprintf("pack %s: trailer unreadable, kept its entries from the old index", p.Short()))
	}
	sv, err := r.Salvage(ctx, damaged, nil)
	res.Salvaged = sv
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	logSalvage(sv, log)
	return nil
}

// logSalvage logs what Salvage did.
func logSalvage(sv *repo.SalvageResult, log func(string)) {
	if sv.PacksRewritten > 0 {
		log(fmt.Sprintf("replaced %s: %s verified and copied into %s, %s lost",
			plural(sv.PacksRewritten, "damaged pack"), plural(sv.BlobsKept, "blob"), plural(sv.PacksWritten, "new pack"), plural(len(sv.Dropped), "blob")))
	}
	for _, e := range sv.Dropped {
		log(fmt.Sprintf("dropped %s blob %s of pack %s: it fails verification or is gone", e.Type, e.ID.Short(), e.Pack.Short()))
	}
	for _, p := range sv.OrphansDeleted {
		log(fmt.Sprintf("deleted pack %s: no index names it and its trailer cannot be read", p.Short()))
	}
}

// replacesMarker names, in a rewritten record's warnings, the record it
// replaces.
const replacesMarker = "replaces archive record "

// maxLostWarnings bounds the lost paths listed in a rewritten record.
const maxLostWarnings = 100

// repairArchives deletes unreadable archive records and rewrites the
// archives that reference lost blobs.
func repairArchives(ctx context.Context, r *repo.Repo, res *RepairResult, o RepairOptions) (err error) {
	list, bad, err := archive.ListArchives(ctx, r)
	if err != nil {
		return fmt.Errorf("repair: list archives: %w", err)
	}
	for _, aid := range sortedKeys(bad) {
		if errors.Is(bad[aid], archive.ErrMalformed) {
			// Authentic, but not readable by this version: not damage
			// that deleting would repair.
			o.Log(fmt.Sprintf("kept archive record %s: it is authentic but cannot be decoded (%v); a newer gobak may read it", aid.Short(), bad[aid]))
			continue
		}
		if !errors.Is(bad[aid], repo.ErrDamaged) {
			return fmt.Errorf("repair: archive record %s: %w", aid.Short(), bad[aid])
		}
		if err := r.DeleteArchive(ctx, aid); err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		res.RecordsDeleted = append(res.RecordsDeleted, aid)
		o.Log(fmt.Sprintf("deleted archive record %s: it cannot be read (%v)", aid.Short(), bad[aid]))
	}
	// A repair killed between saving a rewritten record and deleting the
	// old one left both: finish the replacement.
	var kept []archive.Entry
	replaced := id.NewSet()
	for _, e := range list {
		for _, w := range e.Record.Warnings {
			if i := strings.Index(w, replacesMarker); strings.HasPrefix(w, "check --repair ") && i >= 0 {
				if old, err := id.Parse(strings.TrimSpace(w[i+len(replacesMarker):])); err == nil && old != e.ID {
					replaced.Insert(old)
				}
			}
		}
	}
	for _, e := range list {
		if !replaced.Has(e.ID) {
			kept = append(kept, e)
			continue
		}
		if err := r.DeleteArchive(ctx, e.ID); err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		o.Log(fmt.Sprintf("deleted archive record %s of %q: an earlier repair replaced it", e.ID.Short(), e.Record.Name))
	}
	list = kept
	present := func(b id.ID, rawLen uint64) (bool, error) {
		loc, ok, err := r.Lookup(b)
		if err != nil || !ok {
			return false, err
		}
		return rawLen == 0 || uint64(loc.RawLength) == rawLen, nil
	}
	newRepairer := func(dry bool) *archive.Repairer {
		rp := archive.NewRepairer(ctx, r, int(r.Config().Chunker.Max), present)
		rp.SetLossCheck(func(err error) bool {
			return errors.Is(err, repo.ErrDamaged) || errors.Is(err, repo.ErrBlobNotFound)
		})
		rp.SetDryRun(dry)
		return rp
	}
	// First find, without writing, the tree blobs that cannot be read, and
	// salvage their packs: damaged copies are dropped (good copies in other
	// packs take their place) before any archive is rewritten, so that a
	// repair killed later leaves old records that still show the damage.
	probe := newRepairer(true)
	for _, e := range list {
		if _, _, _, err := probe.Repair(e.Record); err != nil {
			return fmt.Errorf("repair: archive %q: %w", e.Record.Name, err)
		}
	}
	if err := dropUnreadable(ctx, r, probe.Unreadable(), res, o.Log); err != nil {
		return err
	}
	rp := newRepairer(false)
	defer func() {
		if err == nil {
			err = dropUnreadable(ctx, r, rp.Unreadable(), res, o.Log)
		}
	}()
	stamp := o.Now().Format("2006-01-02 15:04:05")
	for _, e := range list {
		tree, lost, changed, err := rp.Repair(e.Record)
		if err != nil {
			return fmt.Errorf("repair: archive %q: %w", e.Record.Name, err)
		}
		if !changed {
			continue
		}
		rec := *e.Record
		rec.Tree = tree[:]
		rec.Warnings = append([]string(nil), rec.Warnings...)
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("check --repair %s: %s%s", stamp, replacesMarker, e.ID))
		for i, l := range lost {
			if i == maxLostWarnings {
				rec.Warnings = append(rec.Warnings, fmt.Sprintf("check --repair %s: and %d more", stamp, len(lost)-i))
				break
			}
			rec.Warnings = append(rec.Warnings, fmt.Sprintf("check --repair %s: %s", stamp, lostText(l)))
		}
		data, err := archive.EncodeRecord(&rec)
		if err != nil {
			return fmt.Errorf("repair: archive %q: %w", rec.Name, err)
		}
		nid, err := r.SaveArchive(ctx, data)
		if err != nil {
			return fmt.Errorf("repair: archive %q: %w", rec.Name, err)
		}
		if err := r.DeleteArchive(ctx, e.ID); err != nil {
			return fmt.Errorf("repair: archive %q: remove the old record: %w", rec.Name, err)
		}
		res.Archives = append(res.Archives, ArchiveRepair{Name: rec.Name, Old: e.ID, New: nid, Lost: lost})
		for _, l := range lost {
			o.Log(fmt.Sprintf("archive %q: %s", rec.Name, lostText(l)))
		}
	}
	return nil
}

// dropUnreadable salvages the packs of the tree blobs the archive repair
// could not read but that are still indexed (damage the check only saw
// when it decoded them), so that later backups store them again.
func dropUnreadable(ctx context.Context, r *repo.Repo, blobs id.Set, res *RepairResult, log func(string)) error {
	packs := id.NewSet()
	for b := range blobs {
		loc, ok, err := r.Lookup(b)
		if err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		if ok {
			packs.Insert(loc.Pack)
		}
	}
	if len(packs) == 0 {
		return nil
	}
	sv, err := r.Salvage(ctx, packs, nil)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	logSalvage(sv, log)
	if res.Salvaged == nil {
		res.Salvaged = sv
	} else {
		res.Salvaged.Dropped = append(res.Salvaged.Dropped, sv.Dropped...)
	}
	return nil
}

// lostText describes a lost entry for logs and record warnings.
func lostText(l archive.Lost) string {
	p := l.Path
	if p == "" {
		p = "."
	}
	switch {
	case l.Dir && l.Partial:
		return fmt.Sprintf("%s: part of the directory listing lost; the entries it named are gone", p)
	case l.Dir:
		return fmt.Sprintf("%s: directory listing lost, now empty", p)
	}
	return fmt.Sprintf("%s: %d bytes lost, restored as zeros", p, l.Bytes)
}

// plural renders "1 pack" or "2 packs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
