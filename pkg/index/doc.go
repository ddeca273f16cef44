// Package index is gobak's local cache of the repository index, kept in a
// bbolt database (DESIGN.md §4).
//
// The repository's index files are the source of truth. The cache maps each
// blob ID to its location (pack, offset, sealed length, plaintext length),
// remembers which index files have already been merged into it, and keeps
// plaintext tree blobs so that walking archives does not need to fetch and
// decrypt them again. Deleting the cache is always safe: the repository layer
// rebuilds it from the index files.
//
// Every chunk of every backup is looked up here, so reads are cheap (one
// read-only bbolt transaction per Lookup, or one per batch with HasMany and
// LookupMany), and writes are batched: AddPack and AddIndexFile each commit
// one write transaction, never one per blob.
//
// A Cache is safe for concurrent use by many goroutines. bbolt serializes
// writers; the repository is expected to use a single writer goroutine. Only
// one process may have a cache file open at a time: a second Open fails with
// an error wrapping ErrInUse after a timeout.
//
// Values are stored in a fixed little-endian layout (see Location); a value
// of the wrong length or with an unknown blob type is reported as an error
// wrapping ErrCorrupt, and the caller is expected to delete the file and
// rebuild it.
package index
