package backendtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

// Bench runs the shared backend benchmarks as sub-benchmarks of b: Save
// and Load of 4 KiB and 16 MiB files, and 4 KiB ranged loads from a 16 MiB
// pack. newBackend must return a new, empty backend; Bench closes it.
func Bench(b *testing.B, newBackend func(b *testing.B) backend.Backend) {
	for _, size := range []int{4 << 10, 16 << 20} {
		b.Run(fmt.Sprintf("Save/%s", sizeName(size)), func(b *testing.B) {
			be := newBackend(b)
			defer be.Close()
			benchSave(b, be, size)
		})
		b.Run(fmt.Sprintf("Load/%s", sizeName(size)), func(b *testing.B) {
			be := newBackend(b)
			defer be.Close()
			benchLoad(b, be, size, 0)
		})
	}
	b.Run("LoadRange/4KiB-of-16MiB", func(b *testing.B) {
		be := newBackend(b)
		defer be.Close()
		benchLoad(b, be, 16<<20, 4<<10)
	})
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

func benchSave(b *testing.B, be backend.Backend, size int) {
	ctx := context.Background()
	data := randomData(size)
	// Remove saved files now and then, untimed, to bound disk and memory
	// use: at most 64 MiB or 256 files are kept.
	keep := max(1, min(256, (64<<20)/size))
	var saved []backend.Handle
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		h := backend.Handle{Type: backend.PackFile, Name: fmt.Sprintf("%064x", i)}
		i++
		if err := be.Save(ctx, h, data); err != nil {
			b.Fatal(err)
		}
		saved = append(saved, h)
		if len(saved) >= keep {
			b.StopTimer()
			for _, h := range saved {
				if err := be.Remove(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
			saved = saved[:0]
			b.StartTimer()
		}
	}
}

// benchLoad loads length bytes (all if 0) of a size-byte file, at
// offsets spread over the file.
func benchLoad(b *testing.B, be backend.Backend, size, length int) {
	ctx := context.Background()
	h := handleFor(backend.PackFile)
	if err := be.Save(ctx, h, randomData(size)); err != nil {
		b.Fatal(err)
	}
	n := size
	if length > 0 {
		n = length
	}
	buf := make([]byte, n)
	b.SetBytes(int64(n))
	var off int64
	for b.Loop() {
		if length > 0 {
			off = (off + 1_000_003) % int64(size-length)
		}
		if err := backend.ReadAt(ctx, be, h, off, buf); err != nil {
			b.Fatal(err)
		}
	}
}
