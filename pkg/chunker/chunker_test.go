package chunker

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

// TestGolden pins chunk boundaries. If it fails, chunking changed and new
// backups would no longer deduplicate against existing repositories.
func TestGolden(t *testing.T) {
	data := pseudoRandom(16<<20, 1)
	t.Run("default", func(t *testing.T) {
		want := []int{697255, 1119493, 992580, 727413, 1071382, 686794, 560874, 4069746, 598514, 1645241, 877317, 2747565, 983042}
		chunks := chunkAll(t, bytes.NewReader(data), testPol, DefaultParams())
		checkChunks(t, data, chunks, DefaultParams())
		if got := lengths(chunks); !slices.Equal(got, want) {
			t.Fatalf("chunk lengths changed:\n got %v\nwant %v", got, want)
		}
	})
	t.Run("small", func(t *testing.T) {
		chunks := chunkAll(t, bytes.NewReader(data), testPol, smallParams)
		checkChunks(t, data, chunks, smallParams)
		got := lengths(chunks)
		if len(got) != 450 || !slices.Equal(got[:5], []int{13146, 9959, 14770, 21458, 44201}) {
			t.Fatalf("chunk lengths changed: %d chunks, first %v", len(got), got[:min(5, len(got))])
		}
		sum := fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(got))))
		if sum != "0f0f4b7770b656da90ddc0f28e6df3e686ced7f078ac6c761377a09350f00454" {
			t.Fatalf("chunk lengths changed: digest %s", sum)
		}
	})
}

func TestReassemble(t *testing.T) {
	random := pseudoRandom(3<<20, 2)
	tests := []struct {
		name string
		data []byte
		p    Params
	}{
		{"random/default", random, DefaultParams()},
		{"random/small", random, smallParams},
		{"random/tiny", random[:200000], Params{Min: 64, Avg: 128, Max: 256}},
		{"zeros", make([]byte, 1<<20), smallParams},
		{"repeating", bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), 40000), smallParams},
		{"1 byte", []byte{7}, smallParams},
		{"min-1", random[:smallParams.Min-1], smallParams},
		{"min", random[:smallParams.Min], smallParams},
		{"max", random[:smallParams.Max], smallParams},
		{"max+1", random[:smallParams.Max+1], smallParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := chunkAll(t, bytes.NewReader(tt.data), testPol, tt.p)
			checkChunks(t, tt.data, chunks, tt.p)
			// Short reads from the source do not move boundaries.
			again := chunkAll(t, &shortReader{bytes.NewReader(tt.data), 1000}, testPol, tt.p)
			if !slices.Equal(lengths(again), lengths(chunks)) {
				t.Fatal("boundaries depend on read sizes")
			}
		})
	}
	// A window of zeros fingerprints to 0, a cut point: zeros are cut at
	// Min. A short repeating pattern has a few non-zero fingerprints and
	// is cut at Max.
	for _, tt := range []struct {
		name string
		data []byte
		want uint32
	}{
		{"zeros are cut at min", make([]byte, 1<<20), smallParams.Min},
		{"a pattern is cut at max", bytes.Repeat([]byte("ab"), 1<<19), smallParams.Max},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := lengths(chunkAll(t, bytes.NewReader(tt.data), testPol, smallParams))
			for i, n := range got[:len(got)-1] {
				if n != int(tt.want) {
					t.Fatalf("chunk %d has %d bytes, want %d", i, n, tt.want)
				}
			}
		})
	}
}

func TestPolynomialMatters(t *testing.T) {
	data := pseudoRandom(2<<20, 3)
	other, err := RandomPolynomial()
	if err != nil {
		t.Fatal(err)
	}
	a := lengths(chunkAll(t, bytes.NewReader(data), testPol, smallParams))
	b := lengths(chunkAll(t, bytes.NewReader(data), other, smallParams))
	if slices.Equal(a, b) {
		t.Fatal("two polynomials gave the same boundaries")
	}
}

// TestInsert checks that inserting bytes in the middle changes only the
// chunks near the insertion.
func TestInsert(t *testing.T) {
	data := pseudoRandom(4<<20, 4)
	mid := len(data) / 2
	for _, n := range []int{1, 100, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			edited := slices.Concat(data[:mid], pseudoRandom(n, 5), data[mid:])
			before := chunkAll(t, bytes.NewReader(data), testPol, smallParams)
			after := chunkAll(t, bytes.NewReader(edited), testPol, smallParams)
			checkChunks(t, edited, after, smallParams)
			old := map[[32]byte]bool{}
			for _, c := range before {
				old[sha256.Sum256(c)] = true
			}
			var changed int
			for _, c := range after {
				if !old[sha256.Sum256(c)] {
					changed++
				}
			}
			if changed == 0 || changed > 3 {
				t.Fatalf("%d of %d chunks changed, want 1..3", changed, len(after))
			}
			if len(after) < 50 {
				t.Fatalf("only %d chunks; the test needs more", len(after))
			}
		})
	}
}

func TestEmptyStream(t *testing.T) {
	c := New(bytes.NewReader(nil), testPol, DefaultParams())
	for range 2 {
		if chunk, err := c.Next(nil); err != io.EOF || chunk != nil {
			t.Fatalf("Next on an empty stream = %d bytes, %v; want io.EOF", len(chunk), err)
		}
	}
}

func TestReset(t *testing.T) {
	a, b := pseudoRandom(1<<20, 6), pseudoRandom(1<<20, 7)
	c := New(bytes.NewReader(a), testPol, smallParams)
	var buf []byte
	for range 3 { // read part of a, then abandon it
		chunk, err := c.Next(buf)
		if err != nil {
			t.Fatal(err)
		}
		buf = chunk
	}
	c.Reset(bytes.NewReader(b))
	var got [][]byte
	for {
		chunk, err := c.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		buf = chunk
		got = append(got, bytes.Clone(chunk))
	}
	want := chunkAll(t, bytes.NewReader(b), testPol, smallParams)
	if !slices.Equal(lengths(got), lengths(want)) {
		t.Fatalf("after Reset: lengths %v, want %v", lengths(got), lengths(want))
	}
	checkChunks(t, b, got, smallParams)
}

func TestResetAfterEOF(t *testing.T) {
	data := pseudoRandom(1<<20, 8)
	c := New(bytes.NewReader(nil), testPol, smallParams)
	if _, err := c.Next(nil); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	c.Reset(bytes.NewReader(data))
	var got [][]byte
	for {
		chunk, err := c.Next(nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, chunk)
	}
	want := chunkAll(t, bytes.NewReader(data), testPol, smallParams)
	if !slices.Equal(lengths(got), lengths(want)) {
		t.Fatalf("after Reset: lengths %v, want %v (average bits lost?)", lengths(got), lengths(want))
	}
}

func TestBufferReuse(t *testing.T) {
	data := pseudoRandom(1<<20, 9)
	c := New(bytes.NewReader(data), testPol, smallParams)
	buf := make([]byte, 0, smallParams.Max)
	for {
		chunk, err := c.Next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if &chunk[:1][0] != &buf[:1][0] {
			t.Fatal("Next did not reuse a large enough buffer")
		}
	}
}

func TestInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		pol  Pol
		p    Params
		want error
	}{
		{"zero pol", 0, DefaultParams(), ErrInvalidPolynomial},
		{"degree 60", 1 << 60, DefaultParams(), ErrInvalidPolynomial},
		{"degree 52", testPol >> 1, DefaultParams(), ErrInvalidPolynomial},
		{"zero params", testPol, Params{}, ErrInvalidParams},
		{"min too small", testPol, Params{Min: 10, Avg: 1 << 10, Max: 1 << 12}, ErrInvalidParams},
		{"avg not power of two", testPol, Params{Min: 1 << 10, Avg: 3 << 10, Max: 1 << 20}, ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(bytes.NewReader([]byte("data")), tt.pol, tt.p)
			for range 2 {
				if _, err := c.Next(nil); !errors.Is(err, tt.want) {
					t.Fatalf("Next = %v, want %v", err, tt.want)
				}
			}
			c.Reset(bytes.NewReader(nil))
			if _, err := c.Next(nil); !errors.Is(err, tt.want) {
				t.Fatalf("after Reset, Next = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	c := New(&errReader{data: pseudoRandom(3*int(smallParams.Max), 10), err: boom}, testPol, smallParams)
	var err error
	for range 100 {
		if _, err = c.Next(nil); err != nil {
			break
		}
	}
	if !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want the reader's error", err)
	}
	if _, err := c.Next(nil); !errors.Is(err, boom) {
		t.Fatalf("second Next = %v, want the reader's error again", err)
	}
}
