package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
)

func (a *app) newRenameCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rename REPO::OLD NEW",
		Short: "Rename an archive",
		Long: `Rename an archive. A record with the new name is written first and the old
record removed after it, so that an interruption leaves the archive under
one name or both, never under none. rename takes an exclusive lock.`,
		Example: `  gobak rename /backup/repo::myhost-2026-03-14 myhost-before-upgrade`,
		Args:    rangeArgs(2, 2, "REPO::OLD NEW"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return a.runRename(cmd.Context(), args[0], args[1])
		}),
	}
	return cmd
}

// runRename writes a copy of the record of OLD named NEW, then deletes OLD.
func (a *app) runRename(ctx context.Context, ref, newName string) (err error) {
	loc, oldName, err := a.archiveRef(ref, true)
	if err != nil {
		return err
	}
	if newName == "" || strings.ContainsAny(newName, "/\x00\n") {
		return usagef("archive name %q: must not be empty or contain '/' or control characters", newName)
	}
	if newName == oldName {
		return usagef("the archive is already named %q", newName)
	}
	s, err := a.openRepo(ctx, loc, exclusiveLock)
	if err != nil {
		return err
	}
	defer s.closeInto(ctx, &err)
	list, err := a.archiveList(ctx, s)
	if err != nil {
		return err
	}
	old, err := archive.FindByName(list, oldName)
	if err != nil {
		return &msgError{msg: fmt.Sprintf("archive %q not found in repository %s", oldName, loc), err: err}
	}
	if _, err := archive.FindByName(list, newName); err == nil {
		return withHint(&msgError{msg: fmt.Sprintf("archive %q already exists in repository %s", newName, loc), err: archive.ErrArchiveExists},
			"choose another name or delete that archive first")
	}
	rec := *old.Record
	rec.Name = newName
	data, err := archive.EncodeRecord(&rec)
	if err != nil {
		return fmt.Errorf("rename %q: %w", oldName, err)
	}
	if err := s.lock.Err(); err != nil {
		return repoError(loc.String(), fmt.Errorf("lock lost: %w", err))
	}
	nid, err := s.repo.SaveArchive(ctx, data)
	if err != nil {
		return repoError(loc.String(), fmt.Errorf("rename %q: %w", oldName, err))
	}
	if err := s.repo.DeleteArchive(ctx, old.ID); err != nil {
		return repoError(loc.String(), fmt.Errorf("rename %q: archive saved as %q, but the old record remains: %w", oldName, newName, err))
	}
	a.logger.Info("archive renamed", "old", oldName, "new", newName, "old_id", old.ID.String(), "id", nid.String())
	return nil
}
