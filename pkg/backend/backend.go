package backend

import (
	"context"
	"errors"
	"io"
)

// Sentinel errors. Backends wrap them with context (the operation and the
// file); test for them with errors.Is.
var (
	// ErrNotExist means the file (or repository directory) does not exist.
	ErrNotExist = errors.New("file does not exist")
	// ErrExist means the file already exists; Save never overwrites.
	ErrExist = errors.New("file already exists")
	// ErrInvalidHandle means a Handle or FileType failed validation.
	ErrInvalidHandle = errors.New("invalid file handle")
)

// FileInfo describes a stored file.
type FileInfo struct {
	// Name is the file's Handle.Name ("" for ConfigFile).
	Name string
	// Size is the file's length in bytes.
	Size int64
}

// Backend is a store of write-once files addressed by Handle.
//
// Every method validates its Handle (or FileType) first and returns an
// error wrapping ErrInvalidHandle, without doing any I/O, if it is not
// valid. Every method that takes a context checks it before starting I/O
// and returns an error wrapping ctx.Err() if it is already done; a
// cancellation during the operation may or may not interrupt it, but never
// leaves a partially written file visible.
//
// All methods are safe for concurrent use by multiple goroutines. Errors
// name the backend's location or the file involved.
type Backend interface {
	// Location returns a human-readable description of where the
	// repository lives (a path or a URL without credentials), for
	// messages.
	Location() string

	// Save creates the file h with contents data.
	//
	// Save is atomic: a concurrent or later reader sees either no file or
	// the whole of data, never a prefix, even if the process crashes or
	// ctx is canceled. When Save returns nil, the file is durable (it
	// survives a crash or power loss of the storage).
	//
	// If h exists already, Save returns an error wrapping ErrExist and
	// leaves the existing file untouched. Of several concurrent Saves of
	// the same h, exactly one succeeds and the others return ErrExist.
	// Save does not retain data after it returns.
	Save(ctx context.Context, h Handle, data []byte) error

	// Load returns a reader of length bytes of h starting at offset.
	// A length <= 0 means up to the end of the file. offset must be >= 0.
	//
	// If the file is shorter than offset+length (or than offset), the
	// reader simply returns fewer bytes (possibly none) before io.EOF;
	// callers that need an exact count use io.ReadFull or ReadAt.
	// If h does not exist, Load returns an error wrapping ErrNotExist.
	//
	// The caller must Close the reader. Reading from it is not bound to
	// ctx; it should be consumed promptly.
	Load(ctx context.Context, h Handle, offset, length int64) (io.ReadCloser, error)

	// Stat returns the FileInfo of h, or an error wrapping ErrNotExist if
	// it does not exist.
	Stat(ctx context.Context, h Handle) (FileInfo, error)

	// List calls fn once for every stored file of type t (for PackFile,
	// across all data/ subdirectories; for ConfigFile, the config file if
	// present, with Name ""), in no particular order. Temporary files left
	// by interrupted Saves and names that are not valid handles are
	// skipped. Files saved or removed while List runs may or may not be
	// reported. fn may call other methods of the backend (for example
	// Load the file it was given); it is called from List's goroutine.
	//
	// If fn returns an error, List stops and returns that error
	// (unwrapped, so a caller may also compare it directly). A missing
	// type directory is reported as an empty listing.
	List(ctx context.Context, t FileType, fn func(FileInfo) error) error

	// Remove deletes h. If h does not exist, it returns an error wrapping
	// ErrNotExist. When Remove returns nil, the removal is durable.
	// Only compact deletes repository data; locks are removed by their
	// owner or by break-lock.
	Remove(ctx context.Context, h Handle) error

	// Close releases the resources held by the backend (connections,
	// open files). The backend must not be used after Close.
	Close() error
}
