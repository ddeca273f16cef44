// Package repo is gobak's repository engine: it opens and creates
// repositories, manages their keys and locks, stores blobs in packs with
// deduplication, writes index files, and keeps the local index cache in step
// with them.
//
// # Writing
//
// SaveBlob may be called from many goroutines at once; compression and
// encryption run on the calling goroutine, so callers that want all cores
// busy call it from GOMAXPROCS goroutines. Full packs are uploaded by
// background goroutines while the next packs fill. A blob is durable only
// once Flush (or SaveArchive, which flushes first) has returned: then its
// pack and an index file naming it are stored. The write order is always
// pack, then index file, then archive record, so a crash at any moment
// leaves a consistent repository; at worst a pack that no index names,
// which RebuildIndex recovers and compaction removes.
//
// # Reading
//
// LoadBlob verifies every blob it returns: the AEAD tag with the blob ID as
// associated data, then the keyed BLAKE3 ID recomputed from the plaintext.
//
// # Errors
//
// Errors wrap the sentinels of this package (ErrWrongPassphrase,
// ErrNotRepository, ...) and of pkg/backend, so callers can use errors.Is.
package repo
