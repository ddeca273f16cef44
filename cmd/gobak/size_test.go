package main

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"16777216", 16 << 20, false},
		{"16M", 16 << 20, false},
		{"16 MiB", 16 << 20, false},
		{"16mb", 16 << 20, false},
		{"1G", 1 << 30, false},
		{"512k", 512 << 10, false},
		{"", 0, true},
		{"M", 0, true},
		{"12Q", 0, true},
		{"-1M", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999G", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for n, want := range map[uint64]string{0: "0 B", 16 << 20: "16 MiB", 1 << 20: "1 MiB", 3 << 29: "1.5 GiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
