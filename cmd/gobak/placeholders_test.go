package main

import (
	"strings"
	"testing"
	"time"
)

// testEnv is a fixed placeholder environment.
func testEnv() placeholderEnv {
	return placeholderEnv{
		now:      time.Date(2026, 3, 14, 2, 5, 9, 123456789, time.FixedZone("CET", 3600)),
		hostname: func() string { return "myhost.example.com" },
		fqdn:     func() string { return "myhost.example.com" },
		user:     "backup",
		pid:      4242,
		uuid4:    func() string { return "0a1b2c3d-0000-4000-8000-000000000000" },
	}
}

func TestExpandPlaceholders(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", "plain"},
		{"{hostname}-{now:%Y-%m-%d_%H:%M}", "myhost-2026-03-14_02:05"},
		{"{fqdn}", "myhost.example.com"},
		{"{user}@{pid}", "backup@4242"},
		{"{now}", "2026-03-14T02:05:09"},
		{"{utcnow}", "2026-03-14T01:05:09"},
		{"{utcnow:%H%M%S %Z}", "010509 UTC"},
		{"{now:%y %j %a %A %b %B %p %I %e %f %z %Z %%}", "26 073 Sat Saturday Mar March AM 02 14 123456 +0100 CET %"},
		{"{now:%F %T %w %u}", "2026-03-14 02:05:09 6 6"},
		{"{now:%s}", "1773450309"},
		{"{{literal}} {{{user}}}", "{literal} {backup}"},
		{"{uuid4}", "0a1b2c3d-0000-4000-8000-000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expandPlaceholders(tt.in, testEnv())
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"{", "}", "a{b", "{nope}", "{user:%Y}", "{now:%Q}", "{now:%}", "x}y"} {
		if got, err := expandPlaceholders(bad, testEnv()); err == nil {
			t.Errorf("%q: got %q, want an error", bad, got)
		}
	}
}

func TestNewUUID4(t *testing.T) {
	a, b := newUUID4(), newUUID4()
	if a == b || len(a) != 36 || a[14] != '4' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("uuids %q %q", a, b)
	}
}

func FuzzExpandPlaceholders(f *testing.F) {
	for _, s := range []string{"{hostname}-{now:%Y-%m-%d}", "{{x}}", "{now:%%%Y}", "{", "}}{", "{utcnow:%s %f}", "\xff{user}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expandPlaceholders(s, testEnv())
		if err != nil {
			return
		}
		if !strings.ContainsAny(s, "{}") && got != s {
			t.Fatalf("%q without braces became %q", s, got)
		}
		// Escaping the output makes it expand to itself.
		esc := strings.NewReplacer("{", "{{", "}", "}}").Replace(got)
		if again, err := expandPlaceholders(esc, testEnv()); err != nil || again != got {
			t.Fatalf("escaped %q expands to %q, %v", esc, again, err)
		}
	})
}
