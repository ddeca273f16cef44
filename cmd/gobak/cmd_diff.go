package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
)

func (a *app) newDiffCmd() *cobra.Command {
	var jsonLines, contentOnly bool
	cmd := &cobra.Command{
		Use:   "diff [flags] REPO::ARCHIVE1 ARCHIVE2 [PATH...]",
		Short: "Show what changed between two archives",
		Long: `Compare two archives of a repository (ARCHIVE2 is a name in the same
repository) and print every entry that was added, removed or changed, as
borg diff does. Content is compared by chunk lists, so nothing is read but
the trees; directories that did not change at all are skipped unread.

Each line is "added SIZE PATH", "removed SIZE PATH", or "modified" with the
changes: "+ADDED -REMOVED" (bytes of chunks only the new or only the old
version has), "[OLDMODE -> NEWMODE]", "[user:group -> user:group]",
"[mtime: OLD -> NEW]", "[xattrs]", "[link: OLD -> NEW]", "[device: OLD ->
NEW]". Access and change times are not compared. --content-only shows
content changes only.`,
		Example: `  gobak diff /backup/repo::host-2026-03-13 host-2026-03-14
  gobak diff --json-lines /backup/repo::host-2026-03-13 host-2026-03-14 etc`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("%s takes REPO::ARCHIVE1 ARCHIVE2 [PATH...], got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			loc, name1, err := a.archiveRef(args[0], true)
			if err != nil {
				return err
			}
			name2 := strings.TrimPrefix(args[1], "::")
			if name2 == "" || strings.Contains(name2, "::") {
				return usagef("ARCHIVE2 %q must be an archive name of the same repository", args[1])
			}
			ctx := cmd.Context()
			s, err := a.openRepo(ctx, loc, sharedLock)
			if err != nil {
				return err
			}
			defer s.closeInto(ctx, &err)
			old, err := a.lookupArchive(ctx, s, name1)
			if err != nil {
				return err
			}
			nw, err := a.lookupArchive(ctx, s, name2)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(a.stdout)
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			err = archive.Diff(ctx, s.repo, old.Record.TreeID(), nw.Record.TreeID(), byteArgs(args[2:]), func(e archive.DiffEntry) error {
				if contentOnly && e.Kind == archive.DiffModified && e.Changes&archive.ChangeContent == 0 {
					return nil
				}
				if jsonLines {
					return enc.Encode(diffJSONOf(e, contentOnly))
				}
				_, err := fmt.Fprintf(w, "%s %s\n", diffText(e, contentOnly), e.Path)
				return err
			})
			if ferr := w.Flush(); err == nil {
				err = ferr
			}
			if err != nil {
				return repoError(loc.String(), fmt.Errorf("diff %s %s: %w", name1, name2, err))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&jsonLines, "json-lines", false, "print one JSON object per changed entry (borg's layout)")
	cmd.Flags().BoolVar(&contentOnly, "content-only", false, "only show content changes (and added or removed entries)")
	return cmd
}

// diffText renders the changes of e (without its path).
func diffText(e archive.DiffEntry, contentOnly bool) string {
	switch e.Kind {
	case archive.DiffAdded:
		return addRemoveText("added", e.New, e.AddedBytes)
	case archive.DiffRemoved:
		return addRemoveText("removed", e.Old, e.RemovedBytes)
	}
	var parts []string
	c, o, n := e.Changes, e.Old, e.New
	if c&archive.ChangeContent != 0 || (c&archive.ChangeType != 0 && e.AddedBytes+e.RemovedBytes > 0) {
		parts = append(parts, fmt.Sprintf("%9s %9s", "+"+borgSize(e.AddedBytes), "-"+borgSize(e.RemovedBytes)))
	}
	if !contentOnly {
		if c&(archive.ChangeType|archive.ChangeMode) != 0 {
			parts = append(parts, fmt.Sprintf("[%s -> %s]", modeString(o.Type, o.Mode), modeString(n.Type, n.Mode)))
		}
		if c&archive.ChangeOwner != 0 {
			parts = append(parts, fmt.Sprintf("[%s -> %s]", ownerPair(o), ownerPair(n)))
		}
		if c&archive.ChangeMtime != 0 {
			parts = append(parts, fmt.Sprintf("[mtime: %s -> %s]", listTime(time.Unix(0, o.Mtime)), listTime(time.Unix(0, n.Mtime))))
		}
		if c&archive.ChangeXattrs != 0 {
			parts = append(parts, "[xattrs]")
		}
		if c&archive.ChangeLink != 0 && o.Type == archive.TypeSymlink && n.Type == archive.TypeSymlink {
			parts = append(parts, fmt.Sprintf("[link: %s -> %s]", o.LinkTarget, n.LinkTarget))
		}
		if c&archive.ChangeRdev != 0 && c&archive.ChangeType == 0 {
			parts = append(parts, fmt.Sprintf("[device: %s -> %s]", devString(o.Rdev), devString(n.Rdev)))
		}
	}
	return "modified " + strings.Join(parts, " ")
}

// addRemoveText is "added 1.20 kB", "added directory", "removed link"...
func addRemoveText(verb string, n *archive.Node, size uint64) string {
	switch n.Type {
	case archive.TypeFile:
		return fmt.Sprintf("%-8s %9s", verb, borgSize(size))
	case archive.TypeDir:
		return verb + " directory"
	case archive.TypeSymlink:
		return verb + " link"
	}
	return verb + " " + n.Type.String()
}

func ownerPair(n *archive.Node) string {
	return ownerName(n.User, n.UID) + ":" + ownerName(n.Group, n.GID)
}

// devString renders a Linux device number as "major,minor".
func devString(rdev uint64) string {
	major := (rdev>>8)&0xfff | (rdev>>32)&^0xfff
	minor := rdev&0xff | (rdev>>12)&^0xff
	return fmt.Sprintf("%d,%d", major, minor)
}

// diffJSON is one line of diff --json-lines, in borg's layout.
type diffJSON struct {
	Path    string           `json:"path"`
	PathB64 string           `json:"path_b64,omitempty"`
	Changes []map[string]any `json:"changes"`
}

func diffJSONOf(e archive.DiffEntry, contentOnly bool) diffJSON {
	out := diffJSON{Path: string(e.Path)}
	if !utf8.Valid(e.Path) {
		out.PathB64 = base64.StdEncoding.EncodeToString(e.Path)
	}
	add := func(kv ...any) {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		out.Changes = append(out.Changes, m)
	}
	switch e.Kind {
	case archive.DiffAdded, archive.DiffRemoved:
		n, size := e.New, e.AddedBytes
		if e.Kind == archive.DiffRemoved {
			n, size = e.Old, e.RemovedBytes
		}
		switch n.Type {
		case archive.TypeFile:
			add("type", e.Kind.String(), "size", size)
		case archive.TypeDir:
			add("type", e.Kind.String()+" directory")
		case archive.TypeSymlink:
			add("type", e.Kind.String()+" link")
		default:
			add("type", e.Kind.String()+" "+n.Type.String())
		}
		return out
	}
	c, o, n := e.Changes, e.Old, e.New
	if c&archive.ChangeContent != 0 || (c&archive.ChangeType != 0 && e.AddedBytes+e.RemovedBytes > 0) {
		add("type", "modified", "added", e.AddedBytes, "removed", e.RemovedBytes)
	}
	if contentOnly {
		return out
	}
	if c&(archive.ChangeType|archive.ChangeMode) != 0 {
		add("type", "mode", "old_mode", modeString(o.Type, o.Mode), "new_mode", modeString(n.Type, n.Mode))
	}
	if c&archive.ChangeOwner != 0 {
		add("type", "owner", "old_user", ownerName(o.User, o.UID), "old_group", ownerName(o.Group, o.GID),
			"new_user", ownerName(n.User, n.UID), "new_group", ownerName(n.Group, n.GID))
	}
	if c&archive.ChangeMtime != 0 {
		add("type", "mtime", "old_mtime", isoTime(time.Unix(0, o.Mtime)), "new_mtime", isoTime(time.Unix(0, n.Mtime)))
	}
	if c&archive.ChangeXattrs != 0 {
		add("type", "xattrs")
	}
	if c&archive.ChangeLink != 0 && o.Type == archive.TypeSymlink && n.Type == archive.TypeSymlink {
		add("type", "changed link")
	}
	if c&archive.ChangeRdev != 0 && c&archive.ChangeType == 0 {
		add("type", "device", "old_device", devString(o.Rdev), "new_device", devString(n.Rdev))
	}
	return out
}

// borgSize renders a byte count as borg does: decimal units, two decimals
// ("17 B", "1.20 kB", "3.45 GB").
func borgSize(n uint64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB", "PB"} {
		v /= 1000
		if v < 999.995 || unit == "PB" {
			return fmt.Sprintf("%.2f %s", v, unit)
		}
	}
	return ""
}
