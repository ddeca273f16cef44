// Package check verifies a gobak repository without changing it: the
// structure of its packs, index files, config, keys and locks (the
// repository part), the archives and every tree and blob they reference
// (the archives part), and optionally the content of every blob
// (VerifyData).
//
// Check never stops at the first problem: every problem found is passed to
// the caller's report function as a Problem, which names the pack, blob,
// index file, archive and file paths it affects. Data damage is mapped back
// to the archives and file paths that reference the damaged blobs, so an
// operator knows exactly what is lost.
//
// # What is read
//
// Without VerifyData, every pack's trailer is read and authenticated (a
// small read at the end of each pack) and compared with the index files.
// With VerifyData, every selected pack is read once from start to end: its
// name is checked against the BLAKE3 of its bytes, and every blob in it is
// authenticated (AEAD), decompressed and its keyed ID recomputed. A pack
// whose trailer is damaged is always read in full, so the blobs it still
// holds are told apart from those that are lost.
//
// # Subsets
//
// Options.Subset verifies only part of the packs, chosen so that
// successive runs cover the whole repository; see Subset.
//
// Check only reads: it never writes, renames or deletes a file. The caller
// should hold a shared lock (repo.AcquireLock) while it runs.
//
// # Repair
//
// Repair (check --repair) runs Check and then fixes what it found, under an
// exclusive lock: it rebuilds the index files from the pack trailers,
// replaces damaged packs by packs holding the blobs that still verify
// (repo.Salvage), deletes archive records that cannot be read, and
// rewrites archives that reference lost blobs so that healthy data stays
// restorable: lost file data becomes holes listed in the node's Damaged
// ranges, lost directories become empty (archive.Repairer). Every step
// writes the new files before it deletes the old ones, so a repair that is
// killed can be run again.
package check
