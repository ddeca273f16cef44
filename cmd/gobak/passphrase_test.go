package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fakeTerminal answers prompts from a script and records them.
type fakeTerminal struct {
	answers []string
	prompts []string
}

func (f *fakeTerminal) install(a *app) {
	a.stdinIsTerminal = func() bool { return true }
	a.readPassword = func(_ context.Context, prompt string) ([]byte, error) {
		f.prompts = append(f.prompts, prompt)
		if len(f.answers) == 0 {
			return nil, errors.New("no more answers")
		}
		ans := f.answers[0]
		f.answers = f.answers[1:]
		return []byte(ans), nil
	}
}

// fdWithContent returns the number of a pipe's read end holding content.
func fdWithContent(t *testing.T, content string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := w.WriteString(content); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return strconv.Itoa(int(r.Fd()))
}

func TestPassphraseOrder(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		fd       string // content for GOBAK_PASSPHRASE_FD="fd"
		terminal bool
		want     string
		wantErr  string
		prompted bool
	}{
		{name: "passphrase", env: map[string]string{"GOBAK_PASSPHRASE": "p", "GOBAK_PASSCOMMAND": "echo c", "GOBAK_PASSPHRASE_FD": "fd"}, fd: "f\n", terminal: true, want: "p"},
		{name: "empty passphrase", env: map[string]string{"GOBAK_PASSPHRASE": "", "GOBAK_PASSCOMMAND": "echo c"}, terminal: true, want: ""},
		{name: "passcommand", env: map[string]string{"GOBAK_PASSCOMMAND": "echo c", "GOBAK_PASSPHRASE_FD": "fd"}, fd: "f\n", terminal: true, want: "c"},
		{name: "passcommand crlf", env: map[string]string{"GOBAK_PASSCOMMAND": `printf 'c\r\n'`}, want: "c"},
		{name: "passcommand keeps inner newline", env: map[string]string{"GOBAK_PASSCOMMAND": `printf 'a\nb\n'`}, want: "a\nb"},
		{name: "empty passcommand is unset", env: map[string]string{"GOBAK_PASSCOMMAND": "", "GOBAK_PASSPHRASE_FD": "fd"}, fd: "f", want: "f"},
		{name: "fd", env: map[string]string{"GOBAK_PASSPHRASE_FD": "fd"}, fd: "f\nrest\n", terminal: true, want: "f"},
		{name: "fd empty", env: map[string]string{"GOBAK_PASSPHRASE_FD": "fd"}, fd: "\n", want: ""},
		{name: "fd negative", env: map[string]string{"GOBAK_PASSPHRASE_FD": "-1"}, wantErr: "not a file descriptor"},
		{name: "fd stdout", env: map[string]string{"GOBAK_PASSPHRASE_FD": "1"}, wantErr: "stdout or stderr"},
		{name: "fd stdin", env: map[string]string{"GOBAK_PASSPHRASE_FD": "0"}, want: "from stdin"},
		{name: "terminal", terminal: true, want: "t", prompted: true},
		{name: "nothing", wantErr: "no passphrase: set GOBAK_PASSPHRASE, GOBAK_PASSCOMMAND or GOBAK_PASSPHRASE_FD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				if v == "fd" {
					v = fdWithContent(t, tt.fd)
				}
				env[k] = v
			}
			var stderr bytes.Buffer
			a := newApp(strings.NewReader("from stdin\nmore"), &bytes.Buffer{}, &stderr, mapEnv(env))
			a.stdinIsTerminal = func() bool { return tt.terminal }
			term := &fakeTerminal{answers: []string{"t"}}
			if tt.terminal {
				term.install(a)
			}
			got, err := a.passphrase(context.Background(), "Enter passphrase: ")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("passphrase() = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("passphrase() = %q, %v; want %q", got, err, tt.want)
			}
			if prompted := len(term.prompts) > 0; prompted != tt.prompted {
				t.Errorf("prompted = %v (%q), want %v", prompted, term.prompts, tt.prompted)
			}
		})
	}
}

func TestPassphraseFuncAsksOnce(t *testing.T) {
	a := newApp(nil, &bytes.Buffer{}, &bytes.Buffer{}, mapEnv(nil))
	term := &fakeTerminal{answers: []string{"one", "two"}}
	term.install(a)
	f := a.passphraseFunc(context.Background(), location{Scheme: "file", Path: "/srv/r"})
	for i := 0; i < 3; i++ {
		if p, err := f(); err != nil || string(p) != "one" {
			t.Fatalf("call %d = %q, %v; want %q", i, p, err, "one")
		}
	}
	if len(term.prompts) != 1 || !strings.Contains(term.prompts[0], "/srv/r") {
		t.Errorf("prompts = %q, want one naming the repository", term.prompts)
	}
}

func TestNewPassphrase(t *testing.T) {
	noSource := errors.New("no source")
	tests := []struct {
		name     string
		env      map[string]string
		useEnv   bool
		terminal []string // nil: not a terminal
		want     string
		wantErr  error
		prompts  int
	}{
		{name: "new passphrase wins", env: map[string]string{"GOBAK_NEW_PASSPHRASE": "n", "GOBAK_PASSPHRASE": "p"}, useEnv: true, terminal: []string{"t", "t"}, want: "n"},
		{name: "empty new passphrase", env: map[string]string{"GOBAK_NEW_PASSPHRASE": ""}, want: ""},
		{name: "env used", env: map[string]string{"GOBAK_PASSPHRASE": "p"}, useEnv: true, want: "p"},
		{name: "env not used", env: map[string]string{"GOBAK_PASSPHRASE": "p"}, wantErr: noSource},
		{name: "env not used, terminal", env: map[string]string{"GOBAK_PASSPHRASE": "p"}, terminal: []string{"t", "t"}, want: "t", prompts: 2},
		{name: "twice", terminal: []string{"t", "t"}, want: "t", prompts: 2},
		{name: "mismatch then match", terminal: []string{"a", "b", "c", "c"}, want: "c", prompts: 4},
		{name: "empty then match", terminal: []string{"", "c", "c"}, want: "c", prompts: 3},
		{name: "gives up", terminal: []string{"a", "b", "", "c", "d"}, prompts: 5},
		{name: "no terminal", wantErr: noSource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			a := newApp(nil, &bytes.Buffer{}, &stderr, mapEnv(tt.env))
			a.stdinIsTerminal = func() bool { return false }
			term := &fakeTerminal{answers: tt.terminal}
			if tt.terminal != nil {
				term.install(a)
			}
			got, err := a.newPassphrase(context.Background(), tt.useEnv, noSource)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("newPassphrase() = %q, %v; want %v", got, err, tt.wantErr)
				}
			case tt.name == "gives up":
				if err == nil || !strings.Contains(err.Error(), "attempts") {
					t.Fatalf("newPassphrase() = %q, %v; want to give up", got, err)
				}
			case err != nil || string(got) != tt.want:
				t.Fatalf("newPassphrase() = %q, %v; want %q", got, err, tt.want)
			}
			if len(term.prompts) != tt.prompts {
				t.Errorf("%d prompts %q, want %d", len(term.prompts), term.prompts, tt.prompts)
			}
			if tt.name == "mismatch then match" && !strings.Contains(stderr.String(), "do not match") {
				t.Errorf("no mismatch message: %q", stderr.String())
			}
		})
	}
}

func TestTrimNewline(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "a\n": "a", "a\n\n": "a\n", "a\r\n": "a", "a\r": "a\r", "\n": ""} {
		if got := string(trimNewline([]byte(in))); got != want {
			t.Errorf("trimNewline(%q) = %q, want %q", in, got, want)
		}
	}
}
