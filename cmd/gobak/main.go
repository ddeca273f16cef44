// Command gobak is the command line interface of the gobak backup engine.
// It follows BorgBackup's conventions: `gobak [global flags] COMMAND ...`,
// REPO::ARCHIVE addresses, passphrases from GOBAK_PASSPHRASE,
// GOBAK_PASSCOMMAND, GOBAK_PASSPHRASE_FD or a terminal prompt, and exit
// codes 0 (success), 1 (warning), 2 (error) and 128+N (killed by signal N).
//
// Developer aids (not part of the user interface): GOBAK_CPUPROFILE=FILE
// writes a CPU profile of the whole run to FILE, GOBAK_MEMPROFILE=FILE a
// heap profile taken at the end of the run, and GOBAK_PEAKPROFILE=FILE a
// heap profile taken when the live heap was largest (polled every 100ms);
// go tool pprof reads them all.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// defaultMemoryLimit is the soft memory limit gobak sets for itself
// unless GOMEMLIMIT is set: a backstop that makes the garbage collector
// work harder before the heap grows past it. The pipelines bound their own
// buffers well below it; it is not a hard cap.
const defaultMemoryLimit = 256 << 20

// defaultGCPercent is gobak's GOGC unless GOGC is set. gobak's live heap
// is mostly long-lived buffers (packs being filled and uploaded, chunk
// buffers) and little garbage, so collecting at 50% growth instead of
// 100% costs a few short collections and keeps the peak heap (and RSS)
// near the live size.
const defaultGCPercent = 50

func main() {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(defaultGCPercent)
	}
	stopProfile := startProfiles(os.Getenv("GOBAK_CPUPROFILE"), os.Getenv("GOBAK_MEMPROFILE"))
	stopPeak := startPeakProfile(os.Getenv("GOBAK_PEAKPROFILE"))
	ctx, stop := notifyContext()
	code := runApp(ctx, newApp(os.Stdin, os.Stdout, os.Stderr, os.LookupEnv), os.Args[1:])
	stop()
	stopPeak()
	stopProfile()
	os.Exit(code)
}

// startProfiles starts the developer profiles asked for (empty names: none)
// and returns the function that writes them. Failures are reported on
// stderr and otherwise ignored.
func startProfiles(cpuFile, memFile string) (stop func()) {
	var cpu *os.File
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gobak: cpu profile: %v\n", err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if memFile != "" {
			f, err := os.Create(memFile)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "gobak: memory profile: %v\n", err)
			}
		}
	}
}

// startPeakProfile writes a heap profile to file each time the live heap
// (as of the last garbage collection) grows by a tenth past its largest
// size so far, until the returned function is called. An empty file
// starts nothing.
func startPeakProfile(file string) (stop func()) {
	if file == "" {
		return func() {}
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprintf(os.Stderr, "gobak: peak live heap %d MiB\n", peak>>20)
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak+peak/10 {
				peak = live
				if f, err := os.Create(file); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

// runApp executes the command line args and returns the process exit code.
// A panic is turned into a one-line "internal error" as a last resort:
// users never see a Go stack trace.
func runApp(ctx context.Context, a *app, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "gobak: internal error: %s; please report this as a bug\n", oneLine(fmt.Sprint(r)))
			code = exitError
		}
	}()
	return a.main(ctx, args)
}
