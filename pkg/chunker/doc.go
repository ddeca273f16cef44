// Package chunker splits byte streams into content-defined chunks, so that
// an edit in the middle of a file changes only the chunks around it and the
// rest deduplicate against earlier backups.
//
// Cut points are chosen by a Rabin fingerprint over a 64-byte sliding window
// (github.com/restic/chunker). The fingerprint polynomial ([Pol]) is chosen at
// random per repository and kept secret in its config, so chunk boundaries
// do not reveal file contents to someone who can see only chunk sizes. The
// size bounds ([Params]) are also per repository. Both are part of the
// repository format: the same input, polynomial and Params always give the
// same chunks.
package chunker
