package archive

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/gobak/gobak/pkg/id"
)

// TreeVersion is the format version written into every tree blob.
const TreeVersion = 1

// ErrMalformed is wrapped by errors of tree and record decoding.
var ErrMalformed = errors.New("malformed archive data")

// ErrNewerFormat is wrapped (with ErrMalformed) by the decoding errors of
// trees and extent lists written in a newer format version: authentic data
// this version cannot read, not damage.
var ErrNewerFormat = errors.New("written in a newer format version")

// Tree is the content of one tree blob: a directory's nodes sorted by name,
// or the IDs of tree blobs holding consecutive runs of them (Parts), for a
// directory too large for one blob. Exactly one of Nodes and Parts may be
// set; an empty directory has neither.
type Tree struct {
	Version int      `cbor:"1,keyasint"`
	Nodes   []Node   `cbor:"2,keyasint,omitempty"`
	Parts   [][]byte `cbor:"3,keyasint,omitempty"`
}

// ExtentList is the content of a blob named in Node.ContentParts.
type ExtentList struct {
	Version int      `cbor:"1,keyasint"`
	Extents []Extent `cbor:"2,keyasint"`
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err) // static options: cannot fail
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   16,
		MaxArrayElements:  1 << 22,
		MaxMapPairs:       1 << 10,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// EncodeTree returns the canonical encoding of t (with Version set).
// Nodes must already be sorted by name.
func EncodeTree(t *Tree) ([]byte, error) {
	t.Version = TreeVersion
	for i := 1; i < len(t.Nodes); i++ {
		if bytes.Compare(t.Nodes[i-1].Name, t.Nodes[i].Name) >= 0 {
			return nil, fmt.Errorf("encode tree: nodes %q and %q not sorted or duplicated", t.Nodes[i-1].Name, t.Nodes[i].Name)
		}
	}
	return encMode.Marshal(t)
}

// DecodeTree parses and validates a tree blob: version, sorted unique
// names, and each node's invariants. It never panics on bad input.
func DecodeTree(data []byte) (*Tree, error) {
	var t Tree
	if err := decMode.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%w: tree: %v", ErrMalformed, err)
	}
	if t.Version > TreeVersion {
		return nil, fmt.Errorf("%w: %w: tree version %d, this gobak reads %d", ErrMalformed, ErrNewerFormat, t.Version, TreeVersion)
	}
	if t.Version != TreeVersion {
		return nil, fmt.Errorf("%w: tree version %d, want %d", ErrMalformed, t.Version, TreeVersion)
	}
	if len(t.Nodes) != 0 && len(t.Parts) != 0 {
		return nil, fmt.Errorf("%w: tree has both nodes and parts", ErrMalformed)
	}
	for i := range t.Nodes {
		if err := t.Nodes[i].validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if i > 0 && bytes.Compare(t.Nodes[i-1].Name, t.Nodes[i].Name) >= 0 {
			return nil, fmt.Errorf("%w: tree nodes %q and %q not sorted or duplicated", ErrMalformed, t.Nodes[i-1].Name, t.Nodes[i].Name)
		}
	}
	for _, p := range t.Parts {
		if len(p) != id.Size {
			return nil, fmt.Errorf("%w: tree part id of %d bytes", ErrMalformed, len(p))
		}
	}
	return &t, nil
}

// EncodeExtentList returns the canonical encoding of an extent list blob.
func EncodeExtentList(ex []Extent) ([]byte, error) {
	return encMode.Marshal(&ExtentList{Version: TreeVersion, Extents: ex})
}

// DecodeExtentList parses an extent list blob.
func DecodeExtentList(data []byte) ([]Extent, error) {
	var l ExtentList
	if err := decMode.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%w: extent list: %v", ErrMalformed, err)
	}
	if l.Version > TreeVersion {
		return nil, fmt.Errorf("%w: %w: extent list version %d, this gobak reads %d", ErrMalformed, ErrNewerFormat, l.Version, TreeVersion)
	}
	if l.Version != TreeVersion {
		return nil, fmt.Errorf("%w: extent list version %d", ErrMalformed, l.Version)
	}
	for _, e := range l.Extents {
		if len(e.ID) != 0 && len(e.ID) != id.Size {
			return nil, fmt.Errorf("%w: extent id of %d bytes", ErrMalformed, len(e.ID))
		}
	}
	return l.Extents, nil
}

// SplitTree encodes nodes (sorted by name) as one tree blob if it fits in
// maxSize bytes, and otherwise as several part blobs of consecutive nodes
// plus an index tree naming them. save stores one blob and returns its ID;
// SplitTree returns the ID of the directory's tree.
func SplitTree(nodes []Node, maxSize int, save func([]byte) (id.ID, error)) (id.ID, error) {
	data, err := EncodeTree(&Tree{Nodes: nodes})
	if err != nil {
		return id.ID{}, err
	}
	if len(data) <= maxSize || len(nodes) <= 1 {
		return save(data)
	}
	// Halve until each part fits; parts are runs of consecutive nodes.
	var parts [][]byte
	var emit func(ns []Node) error
	emit = func(ns []Node) error {
		d, err := EncodeTree(&Tree{Nodes: ns})
		if err != nil {
			return err
		}
		if len(d) > maxSize && len(ns) > 1 {
			mid := len(ns) / 2
			if err := emit(ns[:mid]); err != nil {
				return err
			}
			return emit(ns[mid:])
		}
		pid, err := save(d)
		if err != nil {
			return err
		}
		parts = append(parts, append([]byte(nil), pid[:]...))
		return nil
	}
	if err := emit(nodes); err != nil {
		return id.ID{}, err
	}
	idx, err := EncodeTree(&Tree{Parts: parts})
	if err != nil {
		return id.ID{}, err
	}
	return save(idx)
}
