package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/repo"
)

func (a *app) newInfoCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [flags] REPO",
		Short: "Show a repository's settings and statistics",
		Long: `Show a repository's settings (id, encryption, chunker, pack size, default
compression) and statistics (packs, blobs, sizes, index files, archives,
keys). With --json the output follows borg's layout, with gobak's own fields
in a "gobak" object.`,
		Args: maxArgs(1, "one REPO argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			loc, err := a.repoArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := a.openRepo(ctx, loc, sharedLock)
			if err != nil {
				return err
			}
			defer s.closeInto(ctx, &err)
			st, err := s.repo.Stats(ctx)
			if err != nil {
				return repoError(loc.String(), fmt.Errorf("statistics: %w", err))
			}
			info := a.repoInfo(loc, s.repo.Config(), st)
			if asJSON {
				return writeJSON(a.stdout, info)
			}
			return info.writeText(a.stdout)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (borg's layout)")
	return cmd
}

// infoJSON is the output of info --json: borg's "repository",
// "encryption" and "cache" objects, and gobak's own fields under "gobak".
type infoJSON struct {
	Repository struct {
		ID           string     `json:"id"`
		Location     string     `json:"location"`
		LastModified *time.Time `json:"last_modified,omitempty"`
	} `json:"repository"`
	Encryption struct {
		Mode    string `json:"mode"`
		Cipher  string `json:"cipher"`
		Keyfile string `json:"keyfile,omitempty"`
	} `json:"encryption"`
	Cache struct {
		Path  string `json:"path"`
		Stats struct {
			TotalChunks       int    `json:"total_chunks"`
			TotalUniqueChunks int    `json:"total_unique_chunks"`
			TotalSize         uint64 `json:"total_size"`
			TotalCSize        uint64 `json:"total_csize"`
			UniqueSize        uint64 `json:"unique_size"`
			UniqueCSize       uint64 `json:"unique_csize"`
		} `json:"stats"`
	} `json:"cache"`
	Gobak gobakInfo `json:"gobak"`
}

// gobakInfo holds the repository settings and statistics borg has no field
// for.
type gobakInfo struct {
	FormatVersion int            `json:"format_version"`
	Created       time.Time      `json:"created"`
	Chunker       chunker.Params `json:"chunker"`
	Polynomial    string         `json:"chunker_polynomial"`
	PackSize      uint32         `json:"pack_size"`
	Compression   string         `json:"compression"`
	Packs         int            `json:"packs"`
	Blobs         int            `json:"blobs"`
	DataBlobs     int            `json:"data_blobs"`
	TreeBlobs     int            `json:"tree_blobs"`
	StoredSize    uint64         `json:"stored_size"`
	RawSize       uint64         `json:"raw_size"`
	IndexFiles    int            `json:"index_files"`
	Archives      int            `json:"archives"`
	Keys          int            `json:"keys"`
}

// repoInfo gathers what info prints.
func (a *app) repoInfo(loc location, cfg repo.Config, st repo.Stats) *infoJSON {
	var out infoJSON
	out.Repository.ID = cfg.ID.String()
	out.Repository.Location = loc.String()
	out.Encryption.Mode = cfg.Encryption
	out.Encryption.Cipher = string(cfg.Suite)
	if cfg.Encryption == "keyfile" {
		out.Encryption.Keyfile = keyLocation(loc, cfg, a.keysDir())
	}
	if root := a.cacheRoot(); root != "" {
		out.Cache.Path = filepath.Join(root, cfg.ID.String())
	}
	// Until archives are read (issue 3), every stored blob counts once.
	cs := &out.Cache.Stats
	cs.TotalChunks, cs.TotalUniqueChunks = st.Blobs, st.Blobs
	cs.TotalSize, cs.TotalCSize = st.RawBytes, st.StoredBytes
	cs.UniqueSize, cs.UniqueCSize = st.RawBytes, st.StoredBytes
	out.Gobak = gobakInfo{
		FormatVersion: cfg.Version,
		Created:       cfg.Created,
		Chunker:       cfg.Chunker,
		Polynomial:    cfg.Polynomial.String(),
		PackSize:      cfg.PackSize,
		Compression:   cfg.Compression.String(),
		Packs:         st.Packs,
		Blobs:         st.Blobs,
		DataBlobs:     st.DataBlobs,
		TreeBlobs:     st.TreeBlobs,
		StoredSize:    st.StoredBytes,
		RawSize:       st.RawBytes,
		IndexFiles:    st.IndexFiles,
		Archives:      st.Archives,
		Keys:          st.Keys,
	}
	return &out
}

// writeText prints the information for people.
func (i *infoJSON) writeText(w io.Writer) error {
	g := &i.Gobak
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...))
	}
	row("Repository ID", "%s", i.Repository.ID)
	row("Location", "%s", i.Repository.Location)
	if i.Encryption.Mode == "none" {
		row("Encryption", "none (authenticated, not encrypted)")
	} else {
		row("Encryption", "%s (%s)", i.Encryption.Mode, i.Encryption.Cipher)
	}
	if i.Encryption.Keyfile != "" {
		row("Key file", "%s", i.Encryption.Keyfile)
	}
	row("Created", "%s", g.Created.Local().Format(time.RFC3339))
	row("Format version", "%d", g.FormatVersion)
	row("Chunker", "%s", chunkerText(g.Chunker))
	row("Pack size", "%s", formatSize(uint64(g.PackSize)))
	row("Compression", "%s", g.Compression)
	if i.Cache.Path != "" {
		row("Cache", "%s", i.Cache.Path)
	}
	row("Packs", "%d", g.Packs)
	row("Blobs", "%d (data %d, tree %d)", g.Blobs, g.DataBlobs, g.TreeBlobs)
	row("Stored size", "%s", formatSize(g.StoredSize))
	row("Raw size", "%s", formatSize(g.RawSize))
	row("Index files", "%d", g.IndexFiles)
	row("Archives", "%d", g.Archives)
	row("Keys", "%d", g.Keys)
	return tw.Flush()
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
