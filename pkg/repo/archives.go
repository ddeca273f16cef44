package repo

import (
	"context"
	"errors"
	"fmt"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/id"
)

// maxArchiveRecord bounds the archive records LoadArchive reads.
const maxArchiveRecord = 64 << 20

// SaveArchive stores an archive record (opaque bytes to this package,
// sealed). It first flushes, so that the record is only ever written after
// every blob it can name is durable. It returns the record's ID.
func (r *Repo) SaveArchive(ctx context.Context, record []byte) (id.ID, error) {
	if err := r.Flush(ctx); err != nil {
		return id.ID{}, fmt.Errorf("save archive: %w", err)
	}
	if err := r.checkLock(); err != nil {
		return id.ID{}, fmt.Errorf("save archive: %w", err)
	}
	data := r.key.Seal(nil, record, adArchive)
	aid := id.Hash(data)
	if err := r.be.Save(ctx, backend.Handle{Type: backend.ArchiveFile, Name: aid.String()}, data); err != nil {
		return id.ID{}, fmt.Errorf("save archive: %w", err)
	}
	return aid, nil
}

// LoadArchive reads and authenticates an archive record.
func (r *Repo) LoadArchive(ctx context.Context, aid id.ID) ([]byte, error) {
	h := backend.Handle{Type: backend.ArchiveFile, Name: aid.String()}
	fi, err := r.be.Stat(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", aid, err)
	}
	if fi.Size > maxArchiveRecord {
		return nil, fmt.Errorf("archive %s: %w: record of %d bytes", aid, ErrDamaged, fi.Size)
	}
	data, err := backend.ReadAll(ctx, r.be, h)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", aid, err)
	}
	if id.Hash(data) != aid {
		return nil, fmt.Errorf("archive %s: %w: content does not match its name", aid, ErrDamaged)
	}
	plain, err := r.key.Open(nil, data, adArchive)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w: %v", aid, ErrDamaged, err)
	}
	return plain, nil
}

// ListArchives returns the IDs of all archive records.
func (r *Repo) ListArchives(ctx context.Context) (id.Set, error) {
	return r.listIDs(ctx, backend.ArchiveFile)
}

// DeleteArchive removes an archive record. The blobs it referenced stay
// until compaction.
func (r *Repo) DeleteArchive(ctx context.Context, aid id.ID) error {
	err := r.be.Remove(ctx, backend.Handle{Type: backend.ArchiveFile, Name: aid.String()})
	if errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("archive %s: %w", aid, err)
	}
	return err
}
