package main

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// location is a parsed repository location: a local directory, a
// directory on an SFTP server, or a prefix in an S3 bucket.
type location struct {
	// Raw is the location as the user wrote it.
	Raw string
	// Scheme is "file" for local repositories, "sftp" for SFTP ones,
	// "s3" for S3 ones (Secure says whether over https).
	Scheme string
	// Path is the absolute, cleaned directory of a local repository, or
	// the directory on the SFTP server: absolute, or relative to the
	// login directory when the URL's path starts with /~/ or /./.
	Path string
	// User, Host and Port are those of an sftp:// URL ("" if not given);
	// Host and Port are also the S3 endpoint.
	User, Host, Port string
	// Bucket and Prefix name an S3 repository's objects.
	Bucket, Prefix string
	// Secure is true for s3:// (https), false for s3+http://.
	Secure bool
}

// String returns the location for messages: the path of a local
// repository.
func (l location) String() string {
	if l.Scheme == "file" {
		return l.Path
	}
	return l.Raw
}

// errNoRepo is returned when neither the argument nor GOBAK_REPO names a
// repository.
var errNoRepo = errors.New("no repository given: pass REPO or set GOBAK_REPO")

// parseLocation parses a repository location: a path (relative paths are
// made absolute), file:///path, sftp://[user@]host[:port]/path, or
// s3://host[:port]/bucket[/prefix] (s3+http:// for plain http).
func parseLocation(s string) (location, error) {
	if s == "" {
		return location{}, errNoRepo
	}
	loc := location{Raw: s}
	scheme, _, isURL := strings.Cut(s, "://")
	if !isURL || strings.ContainsAny(scheme, "/.") {
		// A plain path (a "://" inside a directory name is no scheme).
		abs, err := filepath.Abs(s)
		if err != nil {
			return location{}, fmt.Errorf("repository location %q: %w", s, err)
		}
		loc.Scheme, loc.Path = "file", abs
		return loc, nil
	}
	switch strings.ToLower(scheme) {
	case "file":
		u, err := url.Parse(s)
		if err != nil {
			return location{}, fmt.Errorf("repository location %q: %v", s, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return location{}, fmt.Errorf("repository location %q: file URLs must name a local path (file:///path), not host %q", s, u.Host)
		}
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return location{}, fmt.Errorf("repository location %q: file URLs need an absolute path, as in file:///srv/backup", s)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return location{}, fmt.Errorf("repository location %q: file URLs take no query or fragment", s)
		}
		loc.Scheme, loc.Path = "file", filepath.Clean(u.Path)
		return loc, nil
	case "sftp":
		return parseSFTP(loc, s)
	case "s3", "s3+http":
		return parseS3(loc, s, strings.ToLower(scheme) == "s3")
	default:
		return location{}, fmt.Errorf("repository location %q: unknown scheme %q; use a path, file:///path, sftp://[user@]host[:port]/path or s3://host[:port]/bucket[/prefix] (s3+http:// for plain http)", s, scheme)
	}
}

// splitArchive splits "REPO::ARCHIVE" into its parts. The separator is the
// first "::" outside square brackets (so IPv6 hosts such as
// sftp://[::1]/repo work). An argument that is empty or starts with "::"
// takes REPO from repoEnv (the value of GOBAK_REPO).
func splitArchive(arg, repoEnv string) (repoPart, archive string, err error) {
	repoPart, archive = arg, ""
	depth := 0
	for i := 0; i < len(arg); i++ {
		switch arg[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ':':
			if depth == 0 && strings.HasPrefix(arg[i:], "::") {
				repoPart, archive = arg[:i], arg[i+2:]
				i = len(arg)
			}
		}
	}
	if repoPart == "" {
		repoPart = repoEnv
	}
	if repoPart == "" {
		return "", "", errNoRepo
	}
	return repoPart, archive, nil
}

// repoArg resolves the optional REPO argument of a command that addresses
// a whole repository (not an archive).
func (a *app) repoArg(args []string) (location, error) {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	repoPart, archive, err := splitArchive(arg, a.getenv("GOBAK_REPO"))
	if err != nil {
		return location{}, &usageError{err: err}
	}
	if archive != "" || strings.HasSuffix(arg, "::") {
		return location{}, usagef("%q names an archive, but this command works on a whole repository; drop the ::ARCHIVE part", arg)
	}
	return parseLocation(repoPart)
}

// parseSFTP parses sftp://[user@]host[:port]/path. As with scp, a path
// starting with /~/ or /./ is relative to the login directory.
func parseSFTP(loc location, s string) (location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return location{}, fmt.Errorf("repository location %q: %v", s, err)
	}
	if u.Hostname() == "" {
		return location{}, fmt.Errorf("repository location %q: missing host; write sftp://[user@]host[:port]/path", s)
	}
	if _, ok := u.User.Password(); ok {
		return location{}, fmt.Errorf("repository location %q: passwords do not belong in the URL; use an SSH key", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return location{}, fmt.Errorf("repository location %q: sftp URLs take no query or fragment", s)
	}
	p := u.Path
	switch {
	case strings.HasPrefix(p, "/~/"):
		p = "~/" + path.Clean(p[3:])
	case strings.HasPrefix(p, "/./"):
		p = path.Clean(p[3:])
	case strings.HasPrefix(p, "/") && path.Clean(p) != "/":
		p = path.Clean(p)
	default:
		return location{}, fmt.Errorf("repository location %q: missing path; write sftp://[user@]host[:port]/path (or /~/path for one in the home directory)", s)
	}
	loc.Scheme, loc.Path = "sftp", p
	loc.User, loc.Host, loc.Port = u.User.Username(), u.Hostname(), u.Port()
	return loc, nil
}

// parseS3 parses s3://host[:port]/bucket[/prefix] (secure: https) and
// s3+http://host[:port]/bucket[/prefix].
func parseS3(loc location, s string, secure bool) (location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return location{}, fmt.Errorf("repository location %q: %v", s, err)
	}
	if u.Hostname() == "" {
		return location{}, fmt.Errorf("repository location %q: missing host; write s3://host[:port]/bucket[/prefix]", s)
	}
	if u.User != nil {
		return location{}, fmt.Errorf("repository location %q: credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return location{}, fmt.Errorf("repository location %q: s3 URLs take no query or fragment", s)
	}
	// Object keys are not paths: "a//b" and "a/../b" name other keys
	// than "a/b" and "b", so they are refused, not cleaned.
	trimmed := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	if trimmed == "" {
		return location{}, fmt.Errorf("repository location %q: missing bucket; write s3://host[:port]/bucket[/prefix]", s)
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return location{}, fmt.Errorf("repository location %q: empty, . and .. path segments are not allowed in S3 bucket and prefix names", s)
		}
	}
	bucket, prefix, _ := strings.Cut(trimmed, "/")
	loc.Scheme, loc.Host, loc.Port, loc.Secure = "s3", u.Hostname(), u.Port(), secure
	loc.Bucket, loc.Prefix = bucket, prefix
	return loc, nil
}
