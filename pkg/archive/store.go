package archive

import (
	"context"
	"fmt"

	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// ChunkStore is what archive needs to store and read blobs. *repo.Repo
// implements it. SaveBlob must be safe for concurrent use.
type ChunkStore interface {
	// SaveBlob stores a blob unless one with the same ID exists; it
	// returns the ID and whether it was stored now.
	SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error)
	// LoadBlob returns a verified blob's plaintext appended to dst[:0].
	LoadBlob(ctx context.Context, b id.ID, dst []byte) ([]byte, error)
	// BlobID computes the ID data would have.
	BlobID(data []byte) id.ID
	// Flush makes every blob saved so far durable.
	Flush(ctx context.Context) error
	// Lookup says where a blob is stored; Location.Length is its stored
	// (compressed and sealed) size. Blobs saved but not yet flushed may
	// not be found.
	Lookup(b id.ID) (index.Location, bool, error)
}

// ArchiveStore stores archive records. *repo.Repo implements it.
type ArchiveStore interface {
	// SaveArchive flushes, then stores the record.
	SaveArchive(ctx context.Context, record []byte) (id.ID, error)
	LoadArchive(ctx context.Context, a id.ID) ([]byte, error)
	ListArchives(ctx context.Context) (id.Set, error)
	DeleteArchive(ctx context.Context, a id.ID) error
}

// LoadTree loads a tree blob and, for a split tree, its parts, and returns
// the directory's nodes in name order.
func LoadTree(ctx context.Context, s ChunkStore, t id.ID) ([]Node, error) {
	data, err := s.LoadBlob(ctx, t, nil)
	if err != nil {
		return nil, fmt.Errorf("load tree %s: %w", t.Short(), err)
	}
	tree, err := DecodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", t.Short(), err)
	}
	if len(tree.Parts) == 0 {
		return tree.Nodes, nil
	}
	var nodes []Node
	for _, p := range tree.Parts {
		var pid id.ID
		copy(pid[:], p)
		pdata, err := s.LoadBlob(ctx, pid, nil)
		if err != nil {
			return nil, fmt.Errorf("load tree %s part %s: %w", t.Short(), pid.Short(), err)
		}
		part, err := DecodeTree(pdata)
		if err != nil {
			return nil, fmt.Errorf("tree %s part %s: %w", t.Short(), pid.Short(), err)
		}
		if len(part.Parts) != 0 {
			return nil, fmt.Errorf("tree %s part %s: %w: nested parts", t.Short(), pid.Short(), ErrMalformed)
		}
		if len(nodes) > 0 && len(part.Nodes) > 0 && string(nodes[len(nodes)-1].Name) >= string(part.Nodes[0].Name) {
			return nil, fmt.Errorf("tree %s: %w: parts out of order", t.Short(), ErrMalformed)
		}
		nodes = append(nodes, part.Nodes...)
	}
	return nodes, nil
}

// Extents returns a file node's extents, loading its extent-list blobs if
// it has them.
func Extents(ctx context.Context, s ChunkStore, n *Node) ([]Extent, error) {
	if len(n.ContentParts) == 0 {
		return n.Content, nil
	}
	var out []Extent
	var total uint64
	for _, p := range n.ContentParts {
		var pid id.ID
		copy(pid[:], p)
		data, err := s.LoadBlob(ctx, pid, nil)
		if err != nil {
			return nil, fmt.Errorf("file %q: load extent list %s: %w", n.Name, pid.Short(), err)
		}
		ex, err := DecodeExtentList(data)
		if err != nil {
			return nil, fmt.Errorf("file %q: extent list %s: %w", n.Name, pid.Short(), err)
		}
		// Checked as they come: no wrap-around, and a crafted list
		// cannot grow beyond the file's size.
		for _, e := range ex {
			if e.Size == 0 || e.Size > n.Size-total {
				return nil, fmt.Errorf("file %q: %w: extents exceed its size %d", n.Name, ErrMalformed, n.Size)
			}
			total += e.Size
		}
		out = append(out, ex...)
	}
	if total != n.Size {
		return nil, fmt.Errorf("file %q: %w: extents add up to %d, size is %d", n.Name, ErrMalformed, total, n.Size)
	}
	return out, nil
}
