// Package archive will hold gobak's trees, nodes and archive manifests and
// the Create, Extract, Walk and Diff operations (DESIGN.md §2, L3). It is
// not implemented yet: it is the subject of issue 3. The directory exists
// because the project layout requires it.
package archive
