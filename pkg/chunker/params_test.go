package chunker

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	def := DefaultParams()
	tests := []struct {
		in      string
		want    Params
		wantErr string // substring of the error; "" means success
	}{
		{in: "524288,1048576,8388608", want: def},
		{in: "512K,1M,8M", want: def},
		{in: "512KiB,1MiB,8MiB", want: def},
		{in: "512kb, 1mb ,8 MiB", want: def},
		{in: "19,20,23", want: def},
		{in: "6,7,26", want: Params{Min: 64, Avg: 128, Max: 64 << 20}},
		{in: "64,128,64M", want: Params{Min: 64, Avg: 128, Max: 64 << 20}},
		{in: "30,31,32", wantErr: "min 30 is below 64"}, // 31 > 30: bytes, not exponents
		{in: "1K,2K,1G", wantErr: "max is above 67108864"},
		{in: "20,21,27", wantErr: "max is above"},
		{in: "5,6,7", wantErr: "min 32 is below 64"},
		{in: "19,21,20", wantErr: "want min < avg < max"},
		{in: "1M,1M,8M", wantErr: "want min < avg < max"},
		{in: "512K,768K,8M", wantErr: "avg 786432 is not a power of two"},
		{in: "", wantErr: "want MIN,AVG,MAX"},
		{in: "1M,8M", wantErr: "want MIN,AVG,MAX"},
		{in: "buzhash,19,23,21,4095", wantErr: "want MIN,AVG,MAX"},
		{in: "19,23,21,4095", wantErr: "want MIN,AVG,MAX"},
		{in: "x,1M,8M", wantErr: `size "x" is not a number`},
		{in: ",1M,8M", wantErr: `size "" is not a number`},
		{in: "-1,1M,8M", wantErr: `size "-1" is not a number`},
		{in: "1.5M,2M,8M", wantErr: `unknown unit ".5M"`},
		{in: "1T,2T,4T", wantErr: `unknown unit "T"`},
		{in: "99999999999999999999,1M,8M", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseParams(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidParams) {
					t.Fatalf("ParseParams(%q) = %v, %v; want error containing %q wrapping ErrInvalidParams", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseParams(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			again, err := ParseParams(got.String())
			if err != nil || again != got {
				t.Fatalf("ParseParams(String()) = %+v, %v", again, err)
			}
		})
	}
}

func TestParamsString(t *testing.T) {
	if s := DefaultParams().String(); s != "524288,1048576,8388608" {
		t.Fatalf("DefaultParams().String() = %q", s)
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("DefaultParams invalid: %v", err)
	}
	b, err := json.Marshal(DefaultParams())
	if err != nil || string(b) != `{"min":524288,"avg":1048576,"max":8388608}` {
		t.Fatalf("json = %s, %v", b, err)
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p    Params
		want string
	}{
		{Params{64, 128, 256}, ""},
		{Params{1 << 20, 1 << 25, 64 << 20}, ""},
		{Params{63, 128, 256}, "min 63 is below 64"},
		{Params{64, 128, 64<<20 + 1}, "max 67108865 is above"},
		{Params{128, 128, 256}, "want min < avg < max"},
		{Params{64, 256, 256}, "want min < avg < max"},
		{Params{64, 192, 256}, "not a power of two"},
		{Params{}, "min 0 is below 64"},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			err := tt.p.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidParams) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.want)
			}
		})
	}
}
