package chunker

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestRandomPolynomial(t *testing.T) {
	seen := map[Pol]bool{}
	for range 3 {
		p, err := RandomPolynomial()
		if err != nil {
			t.Fatal(err)
		}
		if !p.Valid() || seen[p] {
			t.Fatalf("RandomPolynomial() = %s: valid %v, repeated %v", p, p.Valid(), seen[p])
		}
		seen[p] = true
	}
}

func TestPolValid(t *testing.T) {
	tests := []struct {
		name string
		p    Pol
		want bool
	}{
		{"fixed", testPol, true},
		{"zero", 0, false},
		{"one", 1, false},
		{"degree 52", testPol >> 1, false},
		{"degree 54", testPol << 1, false},
		{"reducible", 1<<53 | 1<<1, false}, // x^53 + x = x(x^52 + 1)
		{"even", testPol &^ 1, false},      // divisible by x
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Valid(); got != tt.want {
				t.Fatalf("Pol(%s).Valid() = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestPolText(t *testing.T) {
	if s := testPol.String(); s != "3da3358b4dc173" {
		t.Fatalf("String() = %q", s)
	}
	type config struct {
		Pol Pol `json:"pol"`
	}
	b, err := json.Marshal(config{testPol})
	if err != nil || string(b) != `{"pol":"3da3358b4dc173"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	tests := []struct {
		in   string
		want Pol
		ok   bool
	}{
		{`"3da3358b4dc173"`, testPol, true},
		{`"0x3DA3358B4DC173"`, testPol, true},
		{`""`, 0, false},
		{`"0x"`, 0, false},
		{`"xyz"`, 0, false},
		{`"+3da3358b4dc173"`, 0, false},
		{`"3da3358b4dc172"`, 0, false},    // even: reducible
		{`"1ffffffffffffffff"`, 0, false}, // overflow
		{`12345`, 0, false},               // a number, not a string
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var c config
			err := json.Unmarshal([]byte(`{"pol":`+tt.in+`}`), &c)
			if tt.ok != (err == nil) || c.Pol != tt.want {
				t.Fatalf("Unmarshal(%s) = %s, %v; want %s ok=%v", tt.in, c.Pol, err, tt.want, tt.ok)
			}
			if !tt.ok && tt.in[0] == '"' && !errors.Is(err, ErrInvalidPolynomial) {
				t.Fatalf("error %v does not wrap ErrInvalidPolynomial", err)
			}
		})
	}
}
