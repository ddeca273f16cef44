package backend

import (
	"context"
	"fmt"
	"io"
)

// ReadAll loads the whole of h from be and returns its contents.
// Errors from be.Load (such as ErrNotExist) are returned wrapped.
func ReadAll(ctx context.Context, be Backend, h Handle) ([]byte, error) {
	rd, err := be.Load(ctx, h, 0, 0)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rd)
	cerr := rd.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", h, err)
	}
	if cerr != nil {
		return nil, fmt.Errorf("close %s: %w", h, cerr)
	}
	return data, nil
}

// ReadAt fills buf with the bytes of h starting at offset, with
// io.ReadFull semantics: if the file ends before buf is full (including
// when offset is at or beyond its end), it returns an error wrapping
// io.ErrUnexpectedEOF; the contents of buf are then unspecified. For an
// empty buf, ReadAt only checks that h exists (via Stat).
func ReadAt(ctx context.Context, be Backend, h Handle, offset int64, buf []byte) error {
	if len(buf) == 0 {
		_, err := be.Stat(ctx, h)
		return err
	}
	rd, err := be.Load(ctx, h, offset, int64(len(buf)))
	if err != nil {
		return err
	}
	_, err = io.ReadFull(rd, buf)
	cerr := rd.Close()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("read %s at %d (%d bytes): %w", h, offset, len(buf), err)
	}
	if cerr != nil {
		return fmt.Errorf("close %s: %w", h, cerr)
	}
	return nil
}
