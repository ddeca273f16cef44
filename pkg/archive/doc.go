// Package archive holds gobak's archives: the tree blobs that describe
// directories, the nodes in them, the archive records that name a root
// tree, and the operations on them (Create, Extract, ExportTar, Walk, Diff).
//
// archive never imports pkg/repo: it declares the narrow interfaces it
// needs (ChunkStore, ArchiveStore), which *repo.Repo satisfies, and
// archivetest provides an in-memory implementation for tests.
//
// # Format (v1, frozen)
//
// A tree blob is the canonical CBOR encoding (RFC 8949 core deterministic)
// of a Tree: either the directory's nodes sorted by name, or, for a
// directory too large for one blob, the IDs of its parts, each a tree blob
// of consecutive nodes. A node's content is a list of extents: a data
// blob (ID and size) or a hole (size only). A file with very many extents
// keeps them in separate extent-list blobs (Node.ContentParts). Names,
// link targets, paths and xattr values are byte strings, never assumed to
// be UTF-8. See node.go and tree.go for the field numbers.
package archive
