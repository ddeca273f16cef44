package compress

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		canon   string
		wantErr string // substring of the error; "" means success
	}{
		{in: "none", want: Spec{Codec: None}, canon: "none"},
		{in: "lz4", want: Spec{Codec: LZ4}, canon: "lz4"},
		{in: "s2", want: Spec{Codec: S2}, canon: "s2"},
		{in: "zstd", want: Spec{Codec: Zstd, Level: 3}, canon: "zstd,3"},
		{in: "zstd,1", want: Spec{Codec: Zstd, Level: 1}, canon: "zstd,1"},
		{in: "zstd,22", want: Spec{Codec: Zstd, Level: 22}, canon: "zstd,22"},
		{in: " ZSTD, 10 ", want: Spec{Codec: Zstd, Level: 10}, canon: "zstd,10"},
		{in: "auto,lz4", want: Spec{Codec: LZ4, Auto: true}, canon: "auto,lz4"},
		{in: "auto,s2", want: Spec{Codec: S2, Auto: true}, canon: "auto,s2"},
		{in: "auto,zstd", want: Spec{Codec: Zstd, Level: 3, Auto: true}, canon: "auto,zstd,3"},
		{in: "auto,zstd,19", want: Spec{Codec: Zstd, Level: 19, Auto: true}, canon: "auto,zstd,19"},
		{in: "", wantErr: `compression "": empty`},
		{in: "zstd,40", wantErr: `compression "zstd,40": level must be 1..22`},
		{in: "zstd,0", wantErr: `level must be 1..22`},
		{in: "zstd,-1", wantErr: `level must be 1..22`},
		{in: "zstd,x", wantErr: `level "x" is not a number`},
		{in: "zstd,", wantErr: `level "" is not a number`},
		{in: "zstd,3,4", wantErr: `too many fields`},
		{in: "lz4,5", wantErr: `lz4 takes no level`},
		{in: "s2,1", wantErr: `s2 takes no level`},
		{in: "none,1", wantErr: `none takes no level`},
		{in: "zlib,6", wantErr: `unknown codec "zlib"`},
		{in: "lzma", wantErr: `unknown codec "lzma"`},
		{in: "auto", wantErr: `auto needs a codec`},
		{in: "auto,none", wantErr: `auto needs a compressing codec`},
		{in: "auto,auto,lz4", wantErr: `unknown codec "auto"`},
		{in: "auto,lz4,1", wantErr: `lz4 takes no level`},
		{in: "auto,zstd,23", wantErr: `level must be 1..22`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidSpec) {
					t.Fatalf("ParseSpec(%q) = %v, %v; want error containing %q wrapping ErrInvalidSpec", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate(%+v): %v", got, err)
			}
			if s := got.String(); s != tt.canon {
				t.Fatalf("String() = %q, want %q", s, tt.canon)
			}
			again, err := ParseSpec(got.String())
			if err != nil || again != got {
				t.Fatalf("ParseSpec(String()) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	if d := Default(); d != (Spec{Codec: LZ4}) || d.String() != "lz4" {
		t.Fatalf("Default() = %+v (%s), want lz4", d, d)
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		spec Spec
		ok   bool
	}{
		{Spec{}, true},
		{Spec{Codec: Zstd}, true}, // level 0 = default
		{Spec{Codec: Zstd, Level: 22}, true},
		{Spec{Codec: Zstd, Level: 23}, false},
		{Spec{Codec: Zstd, Level: -1}, false},
		{Spec{Codec: LZ4, Level: 1}, false},
		{Spec{Codec: None, Auto: true}, false},
		{Spec{Codec: 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec.String(), func(t *testing.T) {
			err := tt.spec.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tt.spec, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Validate error %v does not wrap ErrInvalidSpec", err)
			}
		})
	}
}

func TestSpecJSON(t *testing.T) {
	type config struct {
		Compression Spec `json:"compression"`
	}
	in := config{Compression: Spec{Codec: Zstd, Level: 7, Auto: true}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"compression":"auto,zstd,7"}` {
		t.Fatalf("json = %s", b)
	}
	var out config
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("Unmarshal = %+v, %v; want %+v", out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"compression":"zstd,99"}`), &out); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("Unmarshal of a bad spec: %v, want ErrInvalidSpec", err)
	}
	if _, err := json.Marshal(config{Compression: Spec{Codec: 9}}); err == nil {
		t.Fatal("Marshal of an invalid spec succeeded")
	}
}
