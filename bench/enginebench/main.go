// Command enginebench measures the engine's SaveBlob throughput against
// the sum-of-parts ceiling (chunk + hash + compress + seal, each measured
// on one core, spread over all cores), on mixed real data. It prints a
// table of medians.
//
//	go run ./bench/enginebench [-size 256] [-runs 3] [-compression lz4]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/gobak/gobak/bench"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo"
)

func main() {
	sizeMiB := flag.Int("size", 256, "MiB of mixed data from /usr/lib and /usr/share")
	runs := flag.Int("runs", 3, "runs per measurement; medians are reported")
	spec := flag.String("compression", "lz4", "compression spec")
	flag.Parse()
	if err := run(*sizeMiB, *runs, *spec); err != nil {
		fmt.Fprintln(os.Stderr, "enginebench:", err)
		os.Exit(2)
	}
}

func median(ds []float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func mbps(bytes int, d time.Duration) float64 { return float64(bytes) / d.Seconds() / 1e6 }

func run(sizeMiB, runs int, specText string) error {
	ctx := context.Background()
	spec, err := compress.ParseSpec(specText)
	if err != nil {
		return err
	}
	data, err := bench.MixedData(sizeMiB << 20)
	if err != nil {
		return err
	}
	cores := runtime.GOMAXPROCS(0)
	fmt.Printf("data: %d MiB mixed files from %v; cores: %d; compression %s; cipher aes-256-gcm\n", len(data)>>20, bench.DefaultRoots, cores, spec)

	cacheDir, err := os.MkdirTemp("", "enginebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cacheDir)
	probe, _, err := bench.NewMemRepo(ctx, crypto.AES256GCM, spec.String(), cacheDir)
	if err != nil {
		return err
	}
	cfg := probe.Config()
	key := probe.Key()
	probe.Close()

	var chunk, hash, comp, seal, ceil []float64
	var chunks, stored int
	for i := 0; i < runs; i++ {
		st, err := bench.MeasureStages(data, cfg.Polynomial, cfg.Chunker, spec, key)
		if err != nil {
			return err
		}
		chunks, stored = len(st.Chunks), st.Stored
		chunk = append(chunk, mbps(st.Bytes, st.Chunk))
		hash = append(hash, mbps(st.Bytes, st.Hash))
		comp = append(comp, mbps(st.Bytes, st.Compress))
		seal = append(seal, mbps(st.Bytes, st.Seal))
		ceil = append(ceil, st.Ceiling(cores)/1e6)
	}

	var memRates, diskRates []float64
	for i := 0; i < runs; i++ {
		r, _, err := bench.NewMemRepo(ctx, crypto.AES256GCM, spec.String(), cacheDir)
		if err != nil {
			return err
		}
		start := time.Now()
		if _, err := bench.SaveStream(ctx, r, data, cfg.Polynomial, cfg.Chunker, 0); err != nil {
			return err
		}
		memRates = append(memRates, mbps(len(data), time.Since(start)))
		r.Close()

		dir, err := os.MkdirTemp("", "enginebench-repo-")
		if err != nil {
			return err
		}
		be, err := local.Create(dir + "/repo")
		if err != nil {
			return err
		}
		lr, err := repo.Init(ctx, be, repo.InitOptions{
			Options:     repo.Options{Passphrase: func() ([]byte, error) { return []byte("bench"), nil }, CacheDir: cacheDir},
			Compression: spec.String(), KDF: crypto.TestKDF,
		})
		if err != nil {
			return err
		}
		start = time.Now()
		if _, err := bench.SaveStream(ctx, lr, data, lr.Config().Polynomial, lr.Config().Chunker, 0); err != nil {
			return err
		}
		diskRates = append(diskRates, mbps(len(data), time.Since(start)))
		lr.Close()
		os.RemoveAll(dir)
	}

	fmt.Printf("chunks: %d (avg %d KiB); compressed to %.2f of the input\n\n", chunks, len(data)/max(chunks, 1)>>10, float64(stored)/float64(len(data)))
	fmt.Printf("%-44s %10s\n", "step (medians of "+fmt.Sprint(runs)+")", "MB/s")
	row := func(name string, v float64) { fmt.Printf("%-44s %10.0f\n", name, v) }
	row("chunking, 1 core", median(chunk))
	row("keyed BLAKE3 ID, 1 core", median(hash))
	row("compress "+spec.String()+", 1 core (per input byte)", median(comp))
	row("seal aes-256-gcm, 1 core (per input byte)", median(seal))
	row(fmt.Sprintf("sum-of-parts ceiling, %d cores", cores), median(ceil))
	row("SaveBlob end to end, memory backend", median(memRates))
	row("SaveBlob end to end, local disk backend", median(diskRates))
	fmt.Printf("\nSaveBlob / ceiling: memory %.0f%%, local disk %.0f%% (target >= 60%%)\n",
		100*median(memRates)/median(ceil), 100*median(diskRates)/median(ceil))
	return nil
}
