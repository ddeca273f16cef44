package chunker

import (
	"fmt"
	"io"

	rchunker "github.com/restic/chunker"
)

// Chunker splits one stream into content-defined chunks. Create it with New
// and reuse it for further streams with Reset, which keeps its 512 KiB read
// buffer. A Chunker is not safe for concurrent use; use one per stream
// being chunked.
type Chunker struct {
	rc     *rchunker.Chunker
	pol    Pol
	params Params
	cfgErr error // invalid polynomial or params: every Next fails
	err    error // sticky read error, or io.EOF after the last chunk
}

// New returns a Chunker reading r, cutting with polynomial pol and bounds p.
// New does not fail: if p is invalid or pol is not of degree 53, every call
// of Next returns an error wrapping ErrInvalidParams or
// ErrInvalidPolynomial. (New does not test irreducibility, which costs
// about 0.5 ms; see Pol.Valid.)
func New(r io.Reader, pol Pol, p Params) *Chunker {
	c := &Chunker{pol: pol, params: p}
	switch {
	case !pol.degreeOK():
		c.cfgErr = fmt.Errorf("chunker: %w: %s has degree %d, want %d", ErrInvalidPolynomial, pol, rchunker.Pol(pol).Deg(), polDegree)
	case p.Validate() != nil:
		c.cfgErr = fmt.Errorf("chunker: %w", p.Validate())
	default:
		c.rc = rchunker.NewWithBoundaries(r, rchunker.Pol(pol), uint(p.Min), uint(p.Max))
		c.rc.SetAverageBits(p.avgBits())
	}
	return c
}

// Reset makes c chunk a new stream r with the same polynomial and Params,
// as if freshly made by New, but without allocating.
func (c *Chunker) Reset(r io.Reader) {
	c.err = nil
	if c.rc == nil {
		return
	}
	c.rc.ResetWithBoundaries(r, rchunker.Pol(c.pol), uint(c.params.Min), uint(c.params.Max))
	// ResetWithBoundaries restores restic's default of 20 bits.
	c.rc.SetAverageBits(c.params.avgBits())
}

// Next returns the next chunk. The chunk is stored in buf, which is grown if
// too small and reused (from buf[:0]) if large enough; pass the previous
// result back to avoid allocating. The returned slice is valid until the
// next call that is passed the same buffer.
//
// After the last chunk Next returns nil, io.EOF; a stream of 0 bytes yields
// io.EOF at once. A read error from the stream is returned wrapped, and
// again on every later call until Reset; the partial chunk read so far is
// lost.
func (c *Chunker) Next(buf []byte) ([]byte, error) {
	if c.cfgErr != nil {
		return nil, c.cfgErr
	}
	if c.err != nil {
		return nil, c.err
	}
	chunk, err := c.rc.Next(buf)
	switch {
	case err == io.EOF:
		c.err = io.EOF
		return nil, io.EOF
	case err != nil:
		c.err = fmt.Errorf("chunker: read: %w", err)
		return nil, c.err
	}
	return chunk.Data, nil
}
