package index

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/gobak/gobak/pkg/id"
)

// PutTree stores the plaintext of tree blob tree in the tree cache, in one
// write transaction, replacing any earlier copy. The cache does not verify
// that plaintext hashes to tree; callers store only blobs they verified.
// The tree cache is emptied by Reset and is not bounded in size.
func (c *Cache) PutTree(tree id.ID, plaintext []byte) error {
	val := bytes.Clone(plaintext)
	if val == nil {
		val = []byte{}
	}
	return c.update("put tree "+tree.String(), func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketTrees)
		if err != nil {
			return err
		}
		if err := b.Put(bytes.Clone(tree[:]), val); err != nil {
			return fmt.Errorf("put tree: %w", err)
		}
		return nil
	})
}

// GetTree returns a copy of the cached plaintext of tree blob tree and
// whether it was cached. The copy stays valid after the call.
func (c *Cache) GetTree(tree id.ID) ([]byte, bool, error) {
	var (
		out   []byte
		found bool
	)
	err := c.view("get tree "+tree.String(), func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketTrees)
		if err != nil {
			return err
		}
		if v := b.Get(tree[:]); v != nil {
			out, found = append([]byte{}, v...), true
		}
		return nil
	})
	return out, found, err
}
