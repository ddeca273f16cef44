package crypto

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseSuite(t *testing.T) {
	tests := []struct {
		in   string
		want Suite
		ok   bool
	}{
		{"aes-256-gcm", AES256GCM, true},
		{"chacha20-poly1305", ChaCha20Poly1305, true},
		{"none", None, true},
		{"", "", false},
		{"AES-256-GCM", "", false},
		{"aes-128-gcm", "", false},
		{"none ", "", false},
		{strings.Repeat("x", 1000), "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.in), func(t *testing.T) {
			got, err := ParseSuite(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("ParseSuite(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				if got.String() != tt.in {
					t.Fatalf("String() = %q, want %q", got.String(), tt.in)
				}
				return
			}
			if !errors.Is(err, ErrUnknownSuite) {
				t.Fatalf("ParseSuite(%q) error = %v, want ErrUnknownSuite", tt.in, err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error message not truncated: %d bytes", len(err.Error()))
			}
		})
	}
}
