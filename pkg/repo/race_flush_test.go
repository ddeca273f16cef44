package repo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// TestFlushCoversDeduplicatedBlobs: when SaveBlob reports a blob as
// already known because another goroutine is still storing it, a Flush
// that starts after that SaveBlob returned must still make the blob
// durable. Each goroutine saves shared blobs, flushes, and loads them.
func TestFlushCoversDeduplicatedBlobs(t *testing.T) {
	r, _, _ := newLocalRepo(t, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 30; round++ {
				// Large, so compressing it takes a while: the window in
				// which a second saver sees it as pending.
				data := []byte(strings.Repeat(fmt.Sprintf("round %d ", round), 300000))
				bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
				if err != nil {
					errs <- err
					return
				}
				if err := r.Flush(ctx); err != nil {
					errs <- err
					return
				}
				if _, err := r.LoadBlob(ctx, bid, nil); err != nil {
					errs <- fmt.Errorf("round %d: blob reported saved, flushed, yet: %w", round, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
