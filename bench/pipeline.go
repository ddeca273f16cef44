package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/id"
)

// BlobSaver is the part of *repo.Repo the pipeline needs.
type BlobSaver interface {
	SaveBlob(ctx context.Context, t id.BlobType, data []byte) (id.ID, bool, error)
	Flush(ctx context.Context) error
}

// SaveStream chunks data in one goroutine and saves the chunks from
// workers goroutines (GOMAXPROCS if workers <= 0), then flushes: the way
// the archiver drives the engine. It returns the number of chunks.
func SaveStream(ctx context.Context, s BlobSaver, data []byte, pol chunker.Pol, p chunker.Params, workers int) (int, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pool := sync.Pool{New: func() any { b := make([]byte, 0, p.Max); return &b }}
	chunks := make(chan *[]byte, workers*2)
	errc := make(chan error, workers+1)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				if _, _, err := s.SaveBlob(ctx, id.DataBlob, *c); err != nil {
					errc <- err
					for range chunks {
					}
					return
				}
				pool.Put(c)
			}
		}()
	}
	ch := chunker.New(bytes.NewReader(data), pol, p)
	n := 0
	var cerr error
	for {
		buf := pool.Get().(*[]byte)
		c, err := ch.Next((*buf)[:0])
		if err != nil {
			if !errors.Is(err, io.EOF) {
				cerr = err
			}
			break
		}
		*buf = c
		chunks <- buf
		n++
	}
	close(chunks)
	wg.Wait()
	close(errc)
	if cerr != nil {
		return n, fmt.Errorf("chunk: %w", cerr)
	}
	if err := <-errc; err != nil {
		return n, err
	}
	return n, s.Flush(ctx)
}
