// Package fsmeta reads a file's full Linux metadata and applies it safely
// when restoring.
//
// It is the layer between the file system and gobak's tree format: [Lstat]
// and [Fstat] capture everything gobak records about an entry except its
// name and content (type, permission bits, owner ids and names, size,
// nanosecond times, inode/device/link count, device numbers, symlink target
// and every readable extended attribute, POSIX ACLs included, as raw
// bytes). [NextData] walks the data regions of a sparse file.
//
// On restore, [Mknod] and [CreateSymlink] create special entries and [Apply] sets
// metadata on an entry named inside an already opened directory. None of
// them follows a symlink at the final component, and Apply resolves the
// entry exactly once (openat with O_PATH|O_NOFOLLOW) and then works on that
// file descriptor, so a restorer that opened its destination with
// os.OpenRoot or openat cannot be tricked into changing a file outside it.
//
// Apply uses /proc/self/fd for the few operations Linux offers no
// descriptor-relative call for on O_PATH descriptors (setting extended
// attributes; chmod on kernels older than 6.6). Without /proc it falls back
// to reopening regular files and directories and reports
// [ErrNoProc] for other types.
//
// Everything here is Linux-only and safe for concurrent use. User and group
// names are resolved through os/user and cached for the life of the process.
package fsmeta
