package backend

import (
	"fmt"
)

// FileType is the kind of a repository file; it is also the name of the
// directory that holds files of that kind.
type FileType string

// The file types of a repository.
const (
	// ConfigFile is the single file REPO/config; its Handle.Name must be "".
	ConfigFile FileType = "config"
	// KeyFile is a passphrase-wrapped master key, REPO/keys/<name>.
	KeyFile FileType = "keys"
	// PackFile is a pack of blobs, REPO/data/<first two chars of name>/<name>.
	PackFile FileType = "data"
	// IndexFile is an index file, REPO/index/<name>.
	IndexFile FileType = "index"
	// ArchiveFile is an archive record, REPO/archives/<name>.
	ArchiveFile FileType = "archives"
	// LockFile is a lock file, REPO/locks/<name>.
	LockFile FileType = "locks"
)

// MaxNameLen is the longest Name a Handle may have.
const MaxNameLen = 128

// FileTypes returns every valid FileType, ConfigFile first. The slice is
// freshly allocated on each call; the caller may modify it.
func FileTypes() []FileType {
	return []FileType{ConfigFile, KeyFile, PackFile, IndexFile, ArchiveFile, LockFile}
}

// Valid reports whether t is one of the defined file types. It returns nil
// or an error wrapping ErrInvalidHandle.
func (t FileType) Valid() error {
	switch t {
	case ConfigFile, KeyFile, PackFile, IndexFile, ArchiveFile, LockFile:
		return nil
	}
	return fmt.Errorf("%w: unknown file type %q", ErrInvalidHandle, string(t))
}

// Handle names one file of a repository.
type Handle struct {
	Type FileType
	Name string
}

// Valid checks that h names a file a backend may store. Type must be a
// defined FileType. For ConfigFile, Name must be empty; for every other
// type it must be 1 to MaxNameLen characters from [0-9a-z] (at least 2 for
// PackFile, whose first two characters name the subdirectory). gobak uses
// 64-character lowercase hex names. Names therefore never contain a path
// separator, a dot or anything else that could escape the repository.
// Valid returns nil or an error wrapping ErrInvalidHandle.
func (h Handle) Valid() error {
	if err := h.Type.Valid(); err != nil {
		return err
	}
	if h.Type == ConfigFile {
		if h.Name != "" {
			return fmt.Errorf("%w: config handle with name %q", ErrInvalidHandle, h.Name)
		}
		return nil
	}
	minLen := 1
	if h.Type == PackFile {
		minLen = 2
	}
	if len(h.Name) < minLen || len(h.Name) > MaxNameLen {
		return fmt.Errorf("%w: %s name %q: length %d not in [%d, %d]",
			ErrInvalidHandle, h.Type, h.Name, len(h.Name), minLen, MaxNameLen)
	}
	for i := 0; i < len(h.Name); i++ {
		c := h.Name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return fmt.Errorf("%w: %s name %q: character %q not in [0-9a-z]",
				ErrInvalidHandle, h.Type, h.Name, c)
		}
	}
	return nil
}

// String returns the file's path relative to the repository root, with
// forward slashes: "config", "keys/<name>", "data/ab/ab...". It is meant
// for messages and for building paths once Valid has succeeded; for an
// invalid handle it still returns a readable (but not necessarily
// meaningful) string.
func (h Handle) String() string {
	switch {
	case h.Type == ConfigFile && h.Name == "":
		return string(ConfigFile)
	case h.Type == PackFile && len(h.Name) >= 2:
		return string(PackFile) + "/" + h.Name[:2] + "/" + h.Name
	}
	return string(h.Type) + "/" + h.Name
}
