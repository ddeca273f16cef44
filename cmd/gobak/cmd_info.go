package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/repo"
)

func (a *app) newInfoCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [flags] REPO | REPO::ARCHIVE",
		Short: "Show a repository's or an archive's settings and statistics",
		Long: `Show a repository's settings (id, encryption, chunker, pack size, default
compression) and statistics (packs, blobs, sizes, index files, archives,
keys, and the sizes of all archives together), or, with ::ARCHIVE, an
archive's details: name, id, host, user, times, command line, comment,
original, compressed and deduplicated size, file count and the
deduplication ratio. With --json the output follows borg's layout, with
gobak's own fields in "gobak" objects.

Sizes: original is what the files hold; compressed is what the chunks they
reference take in the repository (counted for every reference);
deduplicated is what an archive added to the repository when it was
created. The deduplication ratio is compressed / deduplicated size; the
reduction ratio (original / stored) includes compression.`,
		Args: maxArgs(1, "one REPO or REPO::ARCHIVE argument"),
		RunE: runE(func(cmd *cobra.Command, args []string) (err error) {
			arg := ""
			if len(args) > 0 {
				arg = args[0]
			}
			loc, name, err := a.archiveRef(arg, false)
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
			list, err := a.archiveList(ctx, s)
			if err != nil {
				return err
			}
			info := a.repoInfo(loc, s.repo.Config(), st)
			info.addArchiveTotals(list)
			if name != "" {
				e, err := archive.FindByName(list, name)
				if err != nil {
					return withHint(&msgError{msg: fmt.Sprintf("archive %q not found in repository %s", name, loc), err: err},
						"list the archives with 'gobak list "+loc.String()+"'")
				}
				info.Archives = []archiveInfoJSON{archiveInfoOf(e)}
			}
			if asJSON {
				return writeJSON(a.stdout, info)
			}
			if name != "" {
				return info.writeArchiveText(a.stdout)
			}
			return info.writeText(a.stdout)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (borg's layout)")
	return cmd
}

// cacheStatsJSON is borg's "cache.stats" object.
type cacheStatsJSON struct {
	TotalChunks       int    `json:"total_chunks"`
	TotalUniqueChunks int    `json:"total_unique_chunks"`
	TotalSize         uint64 `json:"total_size"`
	TotalCSize        uint64 `json:"total_csize"`
	UniqueSize        uint64 `json:"unique_size"`
	UniqueCSize       uint64 `json:"unique_csize"`
}

// dataCacheStats fills cache.stats from the repository with every chunk
// counted once. Like borg's chunk index, it counts file content (data
// blobs); trees are reported in the "gobak" object.
func dataCacheStats(st repo.Stats) cacheStatsJSON {
	return cacheStatsJSON{
		TotalChunks: st.DataBlobs, TotalUniqueChunks: st.DataBlobs,
		TotalSize: st.DataRaw, TotalCSize: st.DataStored,
		UniqueSize: st.DataRaw, UniqueCSize: st.DataStored,
	}
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
		Path  string         `json:"path"`
		Stats cacheStatsJSON `json:"stats"`
	} `json:"cache"`
	Gobak gobakInfo `json:"gobak"`
	// Archives holds the archive asked for (info REPO::ARCHIVE).
	Archives []archiveInfoJSON `json:"archives,omitempty"`
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
	// DeduplicationRatio is the compressed size of all archives over the
	// stored size; ReductionRatio is their original size over it.
	DeduplicationRatio float64 `json:"deduplication_ratio"`
	ReductionRatio     float64 `json:"reduction_ratio"`
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
	// Every stored chunk counts once until addArchiveTotals counts the
	// references of the archives.
	out.Cache.Stats = dataCacheStats(st)
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
	if err := tw.Flush(); err != nil {
		return err
	}
	return i.writeTotals(w)
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

// archiveInfoJSON is one archive of info REPO::ARCHIVE --json: borg's
// fields, and gobak's in "gobak".
type archiveInfoJSON struct {
	Name          string   `json:"name"`
	ID            string   `json:"id"`
	Start         string   `json:"start"`
	End           string   `json:"end"`
	Duration      float64  `json:"duration"`
	Hostname      string   `json:"hostname"`
	Username      string   `json:"username"`
	Comment       string   `json:"comment"`
	CommandLine   []string `json:"command_line"`
	ChunkerParams string   `json:"chunker_params"`
	Stats         struct {
		OriginalSize     uint64 `json:"original_size"`
		CompressedSize   uint64 `json:"compressed_size"`
		DeduplicatedSize uint64 `json:"deduplicated_size"`
		NFiles           uint64 `json:"nfiles"`
	} `json:"stats"`
	Gobak struct {
		Paths              []string `json:"paths"`
		Compression        string   `json:"compression"`
		Parent             string   `json:"parent,omitempty"`
		NDirs              uint64   `json:"ndirs"`
		NChunks            uint64   `json:"nchunks"`
		NNewChunks         uint64   `json:"nnew_chunks"`
		ReadBytes          uint64   `json:"read_bytes"`
		DeduplicationRatio float64  `json:"deduplication_ratio"`
		Warnings           []string `json:"warnings,omitempty"`
	} `json:"gobak"`

	start, end time.Time
}

// archiveInfoOf gathers what info REPO::ARCHIVE prints.
func archiveInfoOf(e archive.Entry) archiveInfoJSON {
	r := e.Record
	var out archiveInfoJSON
	out.Name, out.ID, out.Hostname, out.Username, out.Comment = r.Name, e.ID.String(), r.Hostname, r.Username, r.Comment
	out.start = e.Time
	out.end, _ = r.EndTime()
	out.Start, out.End = isoTime(out.start), isoTime(out.end)
	out.Duration = out.end.Sub(out.start).Seconds()
	out.CommandLine = []string{}
	for _, c := range r.CommandLine {
		out.CommandLine = append(out.CommandLine, string(c))
	}
	out.ChunkerParams = r.Chunker
	st := r.Stats
	out.Stats.OriginalSize, out.Stats.CompressedSize, out.Stats.DeduplicatedSize, out.Stats.NFiles =
		st.OriginalSize, st.CompressedSize, st.DeduplicatedSize, st.NFiles
	g := &out.Gobak
	g.Paths = []string{}
	for _, p := range r.Paths {
		g.Paths = append(g.Paths, string(p))
	}
	g.Compression, g.Warnings = r.Compression, r.Warnings
	if len(r.Parent) == len(e.ID) {
		g.Parent = fmt.Sprintf("%x", r.Parent)
	}
	g.NDirs, g.NChunks, g.NNewChunks, g.ReadBytes = st.NDirs, st.NChunks, st.NNewChunks, st.ReadBytes
	g.DeduplicationRatio = ratio(st.CompressedSize, st.DeduplicatedSize)
	return out
}

// addArchiveTotals counts every archive's chunk references in the cache
// statistics, as borg's "All archives" line does.
func (i *infoJSON) addArchiveTotals(list []archive.Entry) {
	cs := &i.Cache.Stats
	cs.TotalChunks, cs.TotalSize, cs.TotalCSize = 0, 0, 0
	for _, e := range list {
		st := e.Record.Stats
		cs.TotalChunks += int(st.NChunks)
		cs.TotalSize += st.OriginalSize
		cs.TotalCSize += st.CompressedSize
	}
	i.Gobak.DeduplicationRatio = ratio(cs.TotalCSize, cs.UniqueCSize)
	i.Gobak.ReductionRatio = ratio(cs.TotalSize, cs.UniqueCSize)
}

// ratio is a/b rounded to 0.01, 0 when b is 0.
func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*100) / 100
}

// writeTotals prints the sizes of all archives and the chunk counts.
func (i *infoJSON) writeTotals(w io.Writer) error {
	cs := &i.Cache.Stats
	line := strings.Repeat("-", 78)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, line)
	fmt.Fprintf(tw, "\tOriginal size\tCompressed size\tDeduplicated size\t\n")
	for _, ar := range i.Archives {
		st := ar.Stats
		fmt.Fprintf(tw, "This archive:\t%s\t%s\t%s\t\n", formatSize(st.OriginalSize), formatSize(st.CompressedSize), formatSize(st.DeduplicatedSize))
	}
	fmt.Fprintf(tw, "All archives:\t%s\t%s\t%s\t\n", formatSize(cs.TotalSize), formatSize(cs.TotalCSize), formatSize(cs.UniqueCSize))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tUnique chunks\tTotal chunks\t\n")
	fmt.Fprintf(tw, "Chunk index:\t%d\t%d\t\n", cs.TotalUniqueChunks, cs.TotalChunks)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, ar := range i.Archives {
		fmt.Fprintf(w, "Deduplication ratio of this archive: %s\n", ratioText(ar.Gobak.DeduplicationRatio))
	}
	_, err := fmt.Fprintf(w, "Deduplication ratio of all archives: %s (with compression: %s)\n",
		ratioText(i.Gobak.DeduplicationRatio), ratioText(i.Gobak.ReductionRatio))
	return err
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", r)
}

// writeArchiveText prints info REPO::ARCHIVE for people.
func (i *infoJSON) writeArchiveText(w io.Writer) error {
	ar := &i.Archives[0]
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	row := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t%s\n", k, fmt.Sprintf(format, args...))
	}
	row("Archive name", "%s", ar.Name)
	row("Archive fingerprint", "%s", ar.ID)
	row("Repository", "%s", i.Repository.Location)
	row("Comment", "%s", ar.Comment)
	row("Hostname", "%s", ar.Hostname)
	row("Username", "%s", ar.Username)
	row("Time (start)", "%s", listTime(ar.start))
	row("Time (end)", "%s", listTime(ar.end))
	row("Duration", "%s", ar.end.Sub(ar.start).Round(10*time.Millisecond))
	row("Number of files", "%d", ar.Stats.NFiles)
	row("Number of directories", "%d", ar.Gobak.NDirs)
	row("Command line", "%s", strings.Join(ar.CommandLine, " "))
	row("Paths", "%s", strings.Join(ar.Gobak.Paths, " "))
	row("Chunker", "%s", ar.ChunkerParams)
	row("Compression", "%s", ar.Gobak.Compression)
	if ar.Gobak.Parent != "" {
		row("Parent archive", "%s", ar.Gobak.Parent)
	}
	if n := len(ar.Gobak.Warnings); n > 0 {
		row("Warnings", "%d files or directories left out", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return i.writeTotals(w)
}
