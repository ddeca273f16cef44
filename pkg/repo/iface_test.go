package repo

import "github.com/gobak/gobak/pkg/archive"

// *Repo must satisfy the interfaces the archive layer declares.
var (
	_ archive.ChunkStore   = (*Repo)(nil)
	_ archive.ArchiveStore = (*Repo)(nil)
)
