package repo

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
)

// The crash test re-runs this test binary as a writer process (TestMain
// sees GOBAK_CRASH_WRITER) and kills it with SIGKILL at random moments.
func TestMain(m *testing.M) {
	if os.Getenv("GOBAK_CRASH_WRITER") != "" {
		if err := crashWriter(); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashWriter saves rounds of random blobs forever. After each Flush it
// prints "blob <id>" for every blob of the round and then "flushed", so the
// parent knows exactly which blobs were promised durable.
func crashWriter() error {
	ctx := context.Background()
	be, err := local.Open(os.Getenv("GOBAK_CRASH_REPO"))
	if err != nil {
		return err
	}
	seed, _ := strconv.ParseUint(os.Getenv("GOBAK_CRASH_SEED"), 10, 64)
	r, err := Open(ctx, be, Options{
		Passphrase:    passFunc(testPass),
		CacheDir:      os.Getenv("GOBAK_CRASH_CACHE"),
		IndexMaxPacks: 2,
	})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	rng := rand.New(rand.NewPCG(seed, 99))
	for round := 0; ; round++ {
		var ids []id.ID
		for i := 0; i < 12; i++ {
			data := randomBlob(rng, 1024+rng.IntN(300<<10))
			if i == 0 && round > 0 {
				data = []byte(fmt.Sprintf("shared blob %d", round%3)) // duplicates across rounds and runs
			}
			bid, _, err := r.SaveBlob(ctx, id.DataBlob, data)
			if err != nil {
				return err
			}
			ids = append(ids, bid)
		}
		if err := r.Flush(ctx); err != nil {
			return err
		}
		for _, b := range ids {
			fmt.Fprintf(out, "blob %s\n", b)
		}
		fmt.Fprintln(out, "flushed")
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// TestCrashKill kills a writer process 20 times at random moments. After
// each kill the repository must open, and every blob whose Flush returned,
// in this run or any earlier one, must load. At the end, an index rebuild
// from pack trailers must still find them all.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs real processes; skipped with -short")
	}
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.PackSize = MinPackSize })
	r.Close()
	durable := id.NewSet()
	kills := 0
	for run := 0; run < 20; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			"GOBAK_CRASH_WRITER=1", "GOBAK_CRASH_REPO="+dir, "GOBAK_CRASH_CACHE="+o.CacheDir,
			"GOBAK_CRASH_SEED="+strconv.Itoa(run))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []id.ID, 1)
		go func() {
			var promised, round []id.ID
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case line == "flushed":
					promised = append(promised, round...)
					round = nil
				case strings.HasPrefix(line, "blob "):
					if v, err := id.Parse(strings.TrimPrefix(line, "blob ")); err == nil {
						round = append(round, v)
					}
				}
			}
			lines <- promised
		}()
		delay := time.Duration(50+rand.IntN(700)) * time.Millisecond
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		promised := <-lines
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("run %d: writer was not killed (exit %v): %s", run, werr, stderr.String())
		}
		for _, b := range promised {
			durable.Insert(b)
		}
		// The repository opens (with the cache the writer left behind) and
		// every durable blob loads and verifies.
		r := reopen(t, dir, o)
		for b := range durable {
			if _, err := r.LoadBlob(ctx, b, nil); err != nil {
				t.Fatalf("run %d (killed after %v): durable blob %s lost: %v", run, delay, b.Short(), err)
			}
		}
		r.Close()
		t.Logf("run %d: killed after %v, %d blobs durable so far", run, delay, len(durable))
	}
	if kills < 20 || len(durable) == 0 {
		t.Fatalf("kills %d, durable blobs %d", kills, len(durable))
	}
	// Packs the killed writers uploaded but never indexed are recovered
	// by IndexOrphanPacks, and then nothing is left to recover.
	r = reopen(t, dir, o)
	before, _ := r.Stats(ctx)
	orphans, err := r.IndexOrphanPacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := r.Stats(ctx)
	if after.Packs != before.Packs+orphans {
		t.Fatalf("IndexOrphanPacks: %d packs indexed, stats went from %d to %d packs", orphans, before.Packs, after.Packs)
	}
	if again, err := r.IndexOrphanPacks(ctx); err != nil || again != 0 {
		t.Fatalf("second IndexOrphanPacks: %d %v", again, err)
	}
	t.Logf("%d orphan packs recovered", orphans)
	// Every indexed blob loads, and a rebuild from trailers loses nothing.
	n := 0
	err = r.cache.ForEachBlob(func(e index.Entry) error {
		n++
		_, err := r.LoadBlob(ctx, e.ID, nil)
		return err
	})
	if err != nil {
		t.Fatalf("indexed blob does not load: %v", err)
	}
	res, err := r.RebuildIndex(ctx)
	if err != nil || len(res.Damaged) != 0 {
		t.Fatalf("rebuild: %+v %v", res, err)
	}
	for b := range durable {
		if _, err := r.LoadBlob(ctx, b, nil); err != nil {
			t.Fatalf("after rebuild: %s: %v", b.Short(), err)
		}
	}
	t.Logf("%d kills, %d durable blobs, %d indexed before rebuild, %d packs after", kills, len(durable), n, res.Packs)
}
