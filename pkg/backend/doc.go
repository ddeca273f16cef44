// Package backend defines the dumb blob store underneath a gobak repository.
//
// A Backend stores whole files, addressed by a Handle (a FileType, which is
// also the directory name, and a Name). It knows nothing about encryption,
// packs or indexes: it only saves, loads, stats, lists and removes files.
// Files are write-once: Save never overwrites an existing file, so a crash
// or a concurrent writer can never damage data that is already stored.
//
// The on-disk layout (DESIGN.md §3) is
//
//	config
//	keys/<name>
//	data/<first two characters of name>/<name>
//	index/<name>
//	archives/<name>
//	locks/<name>
//
// Implementations live in subpackages: local (a directory on a file
// system) and mem (in memory, for tests, with a fault injector). The
// backendtest subpackage holds the conformance suite every implementation
// must pass.
//
// All errors are wrapped with context; test them with errors.Is against
// ErrNotExist, ErrExist and ErrInvalidHandle.
package backend
