package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/gobak/gobak/pkg/archive"
)

// listFlags are the flags of gobak list.
type listFlags struct {
	short, asJSON, jsonLines bool
	last, first              int
	glob, format             string
}

func (a *app) newListCmd() *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list [flags] REPO | REPO::ARCHIVE [PATH...]",
		Short: "List a repository's archives, or an archive's content",
		Long: `Without ::ARCHIVE, list the repository's archives, oldest first: name, time
and id. With ::ARCHIVE, list the archive's entries (or only the PATHs given
and what is below them) as borg does: mode, user, group, size,
modification time and path.

--format takes placeholders in braces. For archives: {archive} (or {name}),
{time}, {start}, {end}, {id}, {hostname}, {username}, {comment}; for
entries: {mode}, {type}, {user}, {group}, {uid}, {gid}, {size}, {mtime},
{path}, {linktarget}, {healthy}; and {NL} and {TAB} in both. {key:<N} and
{key:>N} pad to N characters.`,
		Example: `  gobak list /backup/repo
  gobak list --last 3 --format '{archive}{NL}' /backup/repo
  gobak list /backup/repo::myhost-2026-03-14_02:00 etc`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(a.getenv("GOBAK_REPO")) == 0 {
				return usagef("%s takes REPO or REPO::ARCHIVE [PATH...]", cmd.CommandPath())
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) > 0 {
				arg = args[0]
			}
			loc, name, err := a.archiveRef(arg, false)
			if err != nil {
				return err
			}
			if name == "" {
				if len(args) > 1 {
					return usagef("PATH arguments need REPO::ARCHIVE")
				}
				return a.listArchives(cmd.Context(), loc, &f)
			}
			return a.listEntries(cmd.Context(), loc, name, args[1:], &f)
		}),
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.short, "short", false, "print only archive names (or paths)")
	fl.BoolVar(&f.asJSON, "json", false, "list archives as JSON (borg's layout)")
	fl.BoolVar(&f.jsonLines, "json-lines", false, "list an archive's entries as one JSON object per line (borg's layout)")
	fl.IntVar(&f.last, "last", 0, "only the last `N` archives")
	fl.IntVar(&f.first, "first", 0, "only the first `N` archives")
	fl.StringVarP(&f.glob, "glob-archives", "a", "", "only archives whose name matches the shell `GLOB`")
	fl.StringVar(&f.format, "format", "", "print each line by `FORMAT` (see above)")
	return cmd
}

// archiveJSON is one archive in list --json (borg's fields and a few more).
type archiveJSON struct {
	Archive  string `json:"archive"`
	BArchive string `json:"barchive"`
	Name     string `json:"name"`
	ID       string `json:"id"`
	Start    string `json:"start"`
	Time     string `json:"time"`
	End      string `json:"end"`
	Hostname string `json:"hostname"`
	Username string `json:"username"`
	Comment  string `json:"comment"`
}

// listArchives prints the repository's archives.
func (a *app) listArchives(ctx context.Context, loc location, f *listFlags) (err error) {
	if f.jsonLines {
		return usagef("--json-lines lists an archive's entries; use --json for archives")
	}
	if f.last < 0 || f.first < 0 {
		return usagef("--first and --last take a positive number")
	}
	s, err := a.openRepo(ctx, loc, sharedLock)
	if err != nil {
		return err
	}
	defer s.closeInto(ctx, &err)
	list, err := a.archiveList(ctx, s)
	if err != nil {
		return err
	}
	if f.glob != "" {
		if list, err = archive.MatchGlob(list, f.glob); err != nil {
			return usagef("--glob-archives: %v", err)
		}
	}
	if f.first > 0 && len(list) > f.first {
		list = list[:f.first]
	}
	if f.last > 0 && len(list) > f.last {
		list = list[len(list)-f.last:]
	}

	if f.asJSON {
		out := struct {
			Repository struct {
				ID       string `json:"id"`
				Location string `json:"location"`
			} `json:"repository"`
			Encryption struct {
				Mode string `json:"mode"`
			} `json:"encryption"`
			Archives []archiveJSON `json:"archives"`
		}{Archives: []archiveJSON{}}
		cfg := s.repo.Config()
		out.Repository.ID, out.Repository.Location, out.Encryption.Mode = cfg.ID.String(), loc.String(), cfg.Encryption
		for _, e := range list {
			out.Archives = append(out.Archives, archiveJSONOf(e))
		}
		return writeJSON(a.stdout, out)
	}

	format := "{archive:<36} {time} [{id}]{NL}"
	switch {
	case f.format != "":
		format = f.format
	case f.short:
		format = "{archive}{NL}"
	}
	tmpl, err := parseLineFormat(format, archiveKeys)
	if err != nil {
		return usagef("--format: %v", err)
	}
	w := bufio.NewWriter(a.stdout)
	for _, e := range list {
		j := archiveJSONOf(e)
		tmpl.write(w, func(key string) string {
			switch key {
			case "archive", "name":
				return e.Record.Name
			case "time", "start":
				return listTime(e.Time)
			case "end":
				t, _ := e.Record.EndTime()
				return listTime(t)
			case "id":
				return j.ID
			case "hostname":
				return j.Hostname
			case "username":
				return j.Username
			case "comment":
				return j.Comment
			}
			return ""
		})
	}
	return w.Flush()
}

var archiveKeys = []string{"archive", "name", "time", "start", "end", "id", "hostname", "username", "comment"}

func archiveJSONOf(e archive.Entry) archiveJSON {
	r := e.Record
	end, _ := r.EndTime()
	return archiveJSON{
		Archive: r.Name, BArchive: r.Name, Name: r.Name, ID: e.ID.String(),
		Start: isoTime(e.Time), Time: isoTime(e.Time), End: isoTime(end),
		Hostname: r.Hostname, Username: r.Username, Comment: r.Comment,
	}
}

// entryJSON is one line of list --json-lines (borg's fields). Path and
// link target are UTF-8 with invalid bytes replaced; path_b64 and
// linktarget_b64 carry the exact bytes when they are not valid UTF-8.
type entryJSON struct {
	Type          string `json:"type"`
	Mode          string `json:"mode"`
	User          string `json:"user"`
	Group         string `json:"group"`
	UID           uint32 `json:"uid"`
	GID           uint32 `json:"gid"`
	Path          string `json:"path"`
	PathB64       string `json:"path_b64,omitempty"`
	Healthy       bool   `json:"healthy"`
	Source        string `json:"source"`
	LinkTarget    string `json:"linktarget"`
	LinkTargetB64 string `json:"linktarget_b64,omitempty"`
	Flags         *int   `json:"flags"`
	Mtime         string `json:"mtime"`
	Size          uint64 `json:"size"`
}

var entryKeys = []string{"mode", "type", "user", "group", "uid", "gid", "size", "mtime", "path", "linktarget", "healthy"}

// listEntries prints an archive's entries.
func (a *app) listEntries(ctx context.Context, loc location, name string, paths []string, f *listFlags) (err error) {
	if f.asJSON {
		return usagef("--json lists archives; use --json-lines for an archive's entries")
	}
	if f.last != 0 || f.first != 0 || f.glob != "" {
		return usagef("--first, --last and --glob-archives select archives; drop ::ARCHIVE to use them")
	}
	format := "{mode} {user:<6} {group:<6} {size:>8} {mtime} {path}{extra}{NL}"
	switch {
	case f.format != "":
		format = f.format
	case f.short:
		format = "{path}{NL}"
	}
	tmpl, err := parseLineFormat(format, append(entryKeys, "extra"))
	if err != nil {
		return usagef("--format: %v", err)
	}
	s, err := a.openRepo(ctx, loc, sharedLock)
	if err != nil {
		return err
	}
	defer s.closeInto(ctx, &err)
	e, err := a.lookupArchive(ctx, s, name)
	if err != nil {
		return err
	}
	sel := archive.NewSelection(byteArgs(paths))
	w := bufio.NewWriter(a.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	first := map[[2]uint64][]byte{} // hard links: the first path of each inode
	err = archive.Walk(ctx, s.repo, e.Record.TreeID(), func(p []byte, n *archive.Node) error {
		selected, descend := sel.Match(p)
		if !selected {
			if !descend && n.Type == archive.TypeDir {
				return archive.SkipDir
			}
			return nil
		}
		extra := ""
		switch {
		case n.Type == archive.TypeSymlink:
			extra = " -> " + string(n.LinkTarget)
		case n.Type == archive.TypeFile && n.Nlink > 1 && n.Inode != 0:
			key := [2]uint64{n.Device, n.Inode}
			if fp, ok := first[key]; ok {
				extra = " link to " + string(fp)
			} else {
				first[key] = p
			}
		}
		j := entryJSONOf(p, n)
		if f.jsonLines {
			return enc.Encode(j)
		}
		tmpl.write(w, func(key string) string {
			switch key {
			case "mode":
				return j.Mode
			case "type":
				return j.Type
			case "user":
				return j.User
			case "group":
				return j.Group
			case "uid":
				return strconv.FormatUint(uint64(n.UID), 10)
			case "gid":
				return strconv.FormatUint(uint64(n.GID), 10)
			case "size":
				return strconv.FormatUint(j.Size, 10)
			case "mtime":
				return listTime(time.Unix(0, n.Mtime))
			case "path":
				return string(p)
			case "linktarget":
				return string(n.LinkTarget)
			case "healthy":
				return strconv.FormatBool(j.Healthy)
			case "extra":
				return extra
			}
			return ""
		})
		return nil
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return repoError(loc.String(), fmt.Errorf("archive %q: %w", name, err))
	}
	return nil
}

func entryJSONOf(p []byte, n *archive.Node) entryJSON {
	j := entryJSON{
		Type: string(typeChar(n.Type)), Mode: modeString(n.Type, n.Mode),
		User: ownerName(n.User, n.UID), Group: ownerName(n.Group, n.GID), UID: n.UID, GID: n.GID,
		Path: string(p), Healthy: len(n.Damaged) == 0, LinkTarget: string(n.LinkTarget),
		Mtime: isoTime(time.Unix(0, n.Mtime)),
	}
	if n.Type == archive.TypeFile {
		j.Size = n.Size
	}
	if !utf8.Valid(p) {
		j.PathB64 = base64.StdEncoding.EncodeToString(p)
	}
	if !utf8.Valid(n.LinkTarget) {
		j.LinkTargetB64 = base64.StdEncoding.EncodeToString(n.LinkTarget)
	}
	return j
}

// ownerName is a user or group name, or the numeric id when there is none.
func ownerName(name []byte, id uint32) string {
	if len(name) > 0 {
		return string(name)
	}
	return strconv.FormatUint(uint64(id), 10)
}

// typeChar is the first character of ls's mode string.
func typeChar(t archive.NodeType) byte {
	switch t {
	case archive.TypeDir:
		return 'd'
	case archive.TypeSymlink:
		return 'l'
	case archive.TypeFIFO:
		return 'p'
	case archive.TypeCharDev:
		return 'c'
	case archive.TypeBlockDev:
		return 'b'
	}
	return '-'
}

// modeString renders a mode as ls does: "drwxr-sr-t".
func modeString(t archive.NodeType, mode uint32) string {
	b := []byte("?rwxrwxrwx")
	b[0] = typeChar(t)
	for i := range 9 {
		if mode&(1<<(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	special := func(bit uint32, i int, set, unset byte) {
		if mode&bit != 0 {
			if b[i] == '-' {
				b[i] = unset
			} else {
				b[i] = set
			}
		}
	}
	special(0o4000, 3, 's', 'S')
	special(0o2000, 6, 's', 'S')
	special(0o1000, 9, 't', 'T')
	return string(b)
}

// listTime renders a time as borg's list does: "Sat, 2026-03-14 02:00:00".
func listTime(t time.Time) string { return t.Local().Format("Mon, 2006-01-02 15:04:05") }

// isoTime renders a time as borg's JSON does (local time, no zone).
func isoTime(t time.Time) string { return t.Local().Format("2006-01-02T15:04:05.000000") }

// lineFormat is a parsed --format: literal text and {key} fields.
type lineFormat []lineField

type lineField struct {
	lit   string
	key   string
	width int  // pad to width characters
	right bool // align right
}

// parseLineFormat parses FORMAT with the placeholders keys, {NL} and
// {TAB}; "{{" and "}}" are literal braces.
func parseLineFormat(s string, keys []string) (lineFormat, error) {
	var out lineFormat
	lit := []byte{}
	flush := func() {
		if len(lit) > 0 {
			out = append(out, lineField{lit: string(lit)})
			lit = lit[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c == '{' || c == '}') && i+1 < len(s) && s[i+1] == c:
			lit = append(lit, c)
			i++
		case c == '}':
			return nil, fmt.Errorf("unmatched '}' (write '}}' for a brace)")
		case c == '{':
			end := i + 1
			for end < len(s) && s[end] != '}' {
				end++
			}
			if end == len(s) {
				return nil, fmt.Errorf("unmatched '{' (write '{{' for a brace)")
			}
			f, err := parseLineField(s[i+1:end], keys)
			if err != nil {
				return nil, err
			}
			if f.lit != "" {
				lit = append(lit, f.lit...)
			} else {
				flush()
				out = append(out, f)
			}
			i = end
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return out, nil
}

func parseLineField(spec string, keys []string) (lineField, error) {
	key, pad, hasPad := spec, "", false
	for i := range len(spec) {
		if spec[i] == ':' {
			key, pad, hasPad = spec[:i], spec[i+1:], true
			break
		}
	}
	switch key {
	case "NL":
		return lineField{lit: "\n"}, nil
	case "TAB":
		return lineField{lit: "\t"}, nil
	}
	known := false
	for _, k := range keys {
		known = known || k == key
	}
	if !known {
		return lineField{}, fmt.Errorf("unknown placeholder {%s}", key)
	}
	f := lineField{key: key}
	if hasPad {
		if len(pad) < 2 || (pad[0] != '<' && pad[0] != '>') {
			return lineField{}, fmt.Errorf("{%s}: padding must be <N or >N", spec)
		}
		n, err := strconv.Atoi(pad[1:])
		if err != nil || n < 0 || n > 1000 {
			return lineField{}, fmt.Errorf("{%s}: bad width %q", spec, pad[1:])
		}
		f.width, f.right = n, pad[0] == '>'
	}
	return f, nil
}

// write prints one line, taking each field's value from value.
func (lf lineFormat) write(w io.Writer, value func(key string) string) {
	for _, f := range lf {
		if f.key == "" {
			io.WriteString(w, f.lit)
			continue
		}
		v := value(f.key)
		pad := f.width - utf8.RuneCountInString(v)
		if pad > 0 && f.right {
			fmt.Fprintf(w, "%*s", pad, "")
		}
		io.WriteString(w, v)
		if pad > 0 && !f.right {
			fmt.Fprintf(w, "%*s", pad, "")
		}
	}
}
