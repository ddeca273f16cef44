package backendtest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/gobak/gobak/pkg/backend"
)

// Run runs the conformance suite as subtests of t. newBackend must return
// a new, empty backend for each subtest; Run closes it when the subtest
// ends (so newBackend must not register its own Close, though it may
// clean up other resources with t.Cleanup). The subtests run in parallel
// (t.Parallel), so newBackend may be called concurrently; the backends it
// returns must be independent of each other.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, be backend.Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyFile", testEmptyFile},
		{"LargeFile", testLargeFile},
		{"RangedLoad", testRangedLoad},
		{"SaveExisting", testSaveExisting},
		{"Missing", testMissing},
		{"List", testList},
		{"ListStop", testListStop},
		{"ListCallback", testListCallback},
		{"RemoveThenList", testRemoveThenList},
		{"InvalidHandle", testInvalidHandle},
		{"ConcurrentDistinct", testConcurrentDistinct},
		{"ConcurrentSame", testConcurrentSame},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			be := newBackend(t)
			t.Cleanup(func() {
				if err := be.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, be)
		})
	}
}

// seq makes each call of randomName and randomData differ, also across
// subtests, while staying reproducible within one test binary run.
var seq atomic.Uint64

func newRand() *rand.Rand {
	return rand.New(rand.NewPCG(0x9ba4, seq.Add(1)))
}

// randomName returns a fresh 64-character lowercase hex name.
func randomName() string {
	r := newRand()
	var b [32]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b[:])
}

// randomData returns n pseudo-random bytes.
func randomData(n int) []byte {
	var seed [32]byte
	r := newRand()
	for i := range seed {
		seed[i] = byte(r.Uint32())
	}
	buf := make([]byte, n)
	_, _ = rand.NewChaCha8(seed).Read(buf)
	return buf
}

// handleFor returns a new handle of type t (the config handle for
// ConfigFile).
func handleFor(t backend.FileType) backend.Handle {
	if t == backend.ConfigFile {
		return backend.Handle{Type: t}
	}
	return backend.Handle{Type: t, Name: randomName()}
}

func save(t *testing.T, be backend.Backend, h backend.Handle, data []byte) {
	t.Helper()
	if err := be.Save(context.Background(), h, data); err != nil {
		t.Fatalf("Save(%v, %d bytes): %v", h, len(data), err)
	}
}

// load reads the range [offset, offset+length) of h.
func load(t *testing.T, be backend.Backend, h backend.Handle, offset, length int64) []byte {
	t.Helper()
	rd, err := be.Load(context.Background(), h, offset, length)
	if err != nil {
		t.Fatalf("Load(%v, %d, %d): %v", h, offset, length, err)
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("Load(%v, %d, %d): read: %v", h, offset, length, err)
	}
	if err := rd.Close(); err != nil {
		t.Fatalf("Load(%v, %d, %d): close: %v", h, offset, length, err)
	}
	return data
}

// checkContent fails t unless h holds exactly want.
func checkContent(t *testing.T, be backend.Backend, h backend.Handle, want []byte) {
	t.Helper()
	got := load(t, be, h, 0, 0)
	if !bytes.Equal(got, want) {
		t.Fatalf("content of %v: got %d bytes, want %d bytes (first difference at %d)",
			h, len(got), len(want), firstDiff(got, want))
	}
	fi, err := be.Stat(context.Background(), h)
	if err != nil {
		t.Fatalf("Stat(%v): %v", h, err)
	}
	if fi.Size != int64(len(want)) || fi.Name != h.Name {
		t.Fatalf("Stat(%v) = %+v, want name %q size %d", h, fi, h.Name, len(want))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// listAll returns the names and sizes List reports for t, failing on
// duplicates.
func listAll(t *testing.T, be backend.Backend, ft backend.FileType) map[string]int64 {
	t.Helper()
	got := make(map[string]int64)
	err := be.List(context.Background(), ft, func(fi backend.FileInfo) error {
		if _, dup := got[fi.Name]; dup {
			t.Errorf("List(%s) reported %q twice", ft, fi.Name)
		}
		got[fi.Name] = fi.Size
		return nil
	})
	if err != nil {
		t.Fatalf("List(%s): %v", ft, err)
	}
	return got
}

// checkList fails t unless List(ft) reports exactly want.
func checkList(t *testing.T, be backend.Backend, ft backend.FileType, want map[string]int64) {
	t.Helper()
	got := listAll(t, be, ft)
	for name, size := range want {
		gs, ok := got[name]
		switch {
		case !ok:
			t.Errorf("List(%s): %q missing", ft, name)
		case gs != size:
			t.Errorf("List(%s): %q has size %d, want %d", ft, name, gs, size)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("List(%s): unexpected %q", ft, name)
		}
	}
}

// wantErr fails t unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}
