package backendtest

import (
	"errors"
	"sync"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

const workers = 8

func testConcurrentDistinct(t *testing.T, be backend.Backend) {
	hs := make([]backend.Handle, workers)
	contents := make([][]byte, workers)
	for i := range hs {
		hs[i] = handleFor(backend.PackFile)
		contents[i] = randomData(256<<10 + i)
	}
	errs := make([]error, workers)
	runTogether(workers, func(i int) {
		errs[i] = be.Save(t.Context(), hs[i], contents[i])
	})
	want := make(map[string]int64)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: Save(%v): %v", i, hs[i], err)
		}
		want[hs[i].Name] = int64(len(contents[i]))
	}
	// Read back concurrently too.
	runTogether(workers, func(i int) {
		got, err := backend.ReadAll(t.Context(), be, hs[i])
		if err != nil || string(got) != string(contents[i]) {
			t.Errorf("worker %d: ReadAll: %d bytes, %v; want %d bytes", i, len(got), err, len(contents[i]))
		}
	})
	checkList(t, be, backend.PackFile, want)
}

func testConcurrentSame(t *testing.T, be backend.Backend) {
	for round := range 5 {
		h := handleFor(backend.PackFile)
		if round == 4 {
			h = handleFor(backend.ConfigFile)
		}
		contents := make([][]byte, workers)
		for i := range contents {
			contents[i] = randomData(128<<10 + i)
		}
		errs := make([]error, workers)
		runTogether(workers, func(i int) {
			errs[i] = be.Save(t.Context(), h, contents[i])
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: workers %d and %d both saved %v", round, winner, i, h)
			case err == nil:
				winner = i
			case !errors.Is(err, backend.ErrExist):
				t.Errorf("round %d: worker %d: got %v, want ErrExist", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no Save of %v succeeded", round, h)
		}
		checkContent(t, be, h, contents[winner])
		checkList(t, be, h.Type, map[string]int64{h.Name: int64(len(contents[winner]))})
		if h.Type == backend.PackFile {
			if err := be.Remove(t.Context(), h); err != nil {
				t.Fatalf("Remove: %v", err)
			}
		}
	}
}

// runTogether runs fn(0..n-1) in n goroutines released at the same moment
// and waits for all of them.
func runTogether(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
