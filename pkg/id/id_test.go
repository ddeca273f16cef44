package id

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	v := Hash([]byte("hello"))
	got, err := Parse(v.String())
	if err != nil {
		t.Fatal(err)
	}
	if got != v {
		t.Fatalf("round trip: got %s want %s", got, v)
	}
	up, err := Parse(strings.ToUpper(v.String()))
	if err != nil || up != v {
		t.Fatalf("upper-case parse: %v %s", err, up)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "abc", strings.Repeat("z", 64), strings.Repeat("a", 65)} {
		if _, err := Parse(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestHashKnownVector(t *testing.T) {
	// BLAKE3 of the empty input, from the BLAKE3 reference test vectors.
	const want = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
	if got := Hash(nil).String(); got != want {
		t.Fatalf("Hash(nil) = %s, want %s", got, want)
	}
}

func TestSet(t *testing.T) {
	a, b := Hash([]byte("a")), Hash([]byte("b"))
	s := NewSet(b, a)
	if !s.Has(a) || !s.Has(b) || s.Has(ID{}) {
		t.Fatal("membership wrong")
	}
	sorted := s.Sorted()
	if len(sorted) != 2 || sorted[0].Compare(sorted[1]) >= 0 {
		t.Fatalf("not sorted: %v", sorted)
	}
	s.Delete(a)
	if s.Has(a) {
		t.Fatal("delete failed")
	}
	if (ID{}).IsNull() != true || a.IsNull() {
		t.Fatal("IsNull wrong")
	}
	if len(a.Short()) != 8 {
		t.Fatal("Short length")
	}
}

func TestTextMarshal(t *testing.T) {
	v := Hash([]byte("x"))
	b, _ := v.MarshalText()
	var w ID
	if err := w.UnmarshalText(b); err != nil || w != v {
		t.Fatalf("text round trip: %v", err)
	}
	if err := w.UnmarshalText([]byte("nope")); err == nil {
		t.Fatal("want error")
	}
}
