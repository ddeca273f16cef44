// Package id defines the 32-byte identifiers used throughout a gobak
// repository: blob IDs (keyed BLAKE3 of a blob's plaintext), and the names of
// pack, index, key and archive files (unkeyed BLAKE3 of the file's bytes).
//
// It is the lowest layer of gobak and imports nothing else from the project.
package id
