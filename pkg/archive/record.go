package archive

import (
	"fmt"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// RecordVersion is the format version of archive records.
const RecordVersion = 1

// Stats are an archive's sizes and counts, as borg reports them.
type Stats struct {
	OriginalSize     uint64 `cbor:"original_size"`     // sum of file sizes
	CompressedSize   uint64 `cbor:"compressed_size"`   // stored size of every chunk referenced, counted per reference
	DeduplicatedSize uint64 `cbor:"deduplicated_size"` // stored size of chunks this archive added to the repository
	NFiles           uint64 `cbor:"nfiles"`
	NDirs            uint64 `cbor:"ndirs"`
	NChunks          uint64 `cbor:"nchunks"` // chunk references
	NNewChunks       uint64 `cbor:"nnew_chunks"`
	ReadBytes        uint64 `cbor:"read_bytes"` // file content actually read (0 for an unchanged tree)
}

// Record is an archive record: what one backup was, and where its tree is.
// Paths and the command line are byte strings (they need not be UTF-8).
type Record struct {
	Version     int      `cbor:"version"`
	Name        string   `cbor:"name"`
	Hostname    string   `cbor:"hostname"`
	Username    string   `cbor:"username"`
	Start       string   `cbor:"start"` // RFC 3339 with nanoseconds and zone offset
	End         string   `cbor:"end"`
	Paths       [][]byte `cbor:"paths"`
	CommandLine [][]byte `cbor:"command_line"`
	Comment     string   `cbor:"comment,omitempty"`
	Tree        []byte   `cbor:"tree"`
	Stats       Stats    `cbor:"stats"`
	Chunker     string   `cbor:"chunker"`
	Compression string   `cbor:"compression"`
	// Warnings lists files that vanished or could not be read during
	// the backup (the archive is complete but for them).
	Warnings []string `cbor:"warnings,omitempty"`
	// Parent is the archive whose file list was used to skip unchanged
	// files, if any.
	Parent []byte `cbor:"parent,omitempty"`
}

// TreeID returns the root tree ID.
func (r *Record) TreeID() id.ID {
	var out id.ID
	copy(out[:], r.Tree)
	return out
}

// StartTime parses Start.
func (r *Record) StartTime() (time.Time, error) { return time.Parse(time.RFC3339Nano, r.Start) }

// EndTime parses End.
func (r *Record) EndTime() (time.Time, error) { return time.Parse(time.RFC3339Nano, r.End) }

// FormatTime renders t as records store it.
func FormatTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// EncodeRecord returns the canonical encoding of r (with Version set).
func EncodeRecord(r *Record) ([]byte, error) {
	r.Version = RecordVersion
	return encMode.Marshal(r)
}

// DecodeRecord parses and validates an archive record.
func DecodeRecord(data []byte) (*Record, error) {
	var r Record
	if err := decMode.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: archive record: %v", ErrMalformed, err)
	}
	if r.Version != RecordVersion {
		return nil, fmt.Errorf("%w: archive record version %d, want %d", ErrMalformed, r.Version, RecordVersion)
	}
	if r.Name == "" {
		return nil, fmt.Errorf("%w: archive record without a name", ErrMalformed)
	}
	if len(r.Tree) != id.Size {
		return nil, fmt.Errorf("%w: archive %q: tree id of %d bytes", ErrMalformed, r.Name, len(r.Tree))
	}
	if _, err := r.StartTime(); err != nil {
		return nil, fmt.Errorf("%w: archive %q: start time: %v", ErrMalformed, r.Name, err)
	}
	if _, err := r.EndTime(); err != nil {
		return nil, fmt.Errorf("%w: archive %q: end time: %v", ErrMalformed, r.Name, err)
	}
	return &r, nil
}
