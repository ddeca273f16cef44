// Package local implements backend.Backend on a directory of a local (or
// locally mounted) file system, in the layout of DESIGN.md §3.
//
// Files are written once: Save writes a temporary file ".tmp-<random hex>"
// in the target directory (created exclusively, mode 0400), fsyncs it,
// hard-links it to its final name (which fails if that name exists, so an
// existing file is never replaced), removes the temporary name and fsyncs
// the directory. A crash may leave ".tmp-" files behind; List ignores them
// and RemoveTemp deletes them.
//
// The file system must support hard links (ext4, xfs, btrfs, zfs, NFS and
// most others do; FAT does not).
package local
