package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// maxPassphrase bounds what is read from GOBAK_PASSPHRASE_FD.
const maxPassphrase = 64 << 10

// errNoPassphrase is returned when a passphrase is needed but there is no
// source for it.
var errNoPassphrase = errors.New("no passphrase: set GOBAK_PASSPHRASE, GOBAK_PASSCOMMAND or GOBAK_PASSPHRASE_FD")

// passphraseFunc returns the lazily-called passphrase function for
// repo.Options: it asks at most once, and only if a key must be opened.
func (a *app) passphraseFunc(ctx context.Context, loc location) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		return a.passphrase(ctx, "Enter passphrase for repository "+loc.String()+": ")
	})
}

// passphrase returns the passphrase from, in borg's order,
// GOBAK_PASSPHRASE (set but empty means the empty passphrase),
// GOBAK_PASSCOMMAND, GOBAK_PASSPHRASE_FD, or a prompt on the terminal.
func (a *app) passphrase(ctx context.Context, prompt string) ([]byte, error) {
	if p, ok, err := a.envPassphrase(ctx); ok {
		return p, err
	}
	if a.stdinIsTerminal() {
		return a.readPassword(ctx, prompt)
	}
	return nil, errNoPassphrase
}

// envPassphrase returns the passphrase from the environment sources; ok is
// false if none is set.
func (a *app) envPassphrase(ctx context.Context) (pass []byte, ok bool, err error) {
	if v, ok := a.lookupEnv("GOBAK_PASSPHRASE"); ok {
		return []byte(v), true, nil
	}
	if v := a.getenv("GOBAK_PASSCOMMAND"); v != "" {
		p, err := a.passCommand(ctx, v)
		return p, true, err
	}
	if v := a.getenv("GOBAK_PASSPHRASE_FD"); v != "" {
		p, err := readPassphraseFD(v, a.stdin)
		return p, true, err
	}
	return nil, false, nil
}

// newPassphrase returns a passphrase for a new key: GOBAK_NEW_PASSPHRASE if
// set; else, if useEnv, the ordinary environment sources; else a prompt on
// the terminal, asked twice and compared. noSource is the error when there
// is no source at all.
func (a *app) newPassphrase(ctx context.Context, useEnv bool, noSource error) ([]byte, error) {
	if v, ok := a.lookupEnv("GOBAK_NEW_PASSPHRASE"); ok {
		return []byte(v), nil
	}
	if useEnv {
		if p, ok, err := a.envPassphrase(ctx); ok {
			return p, err
		}
	}
	if !a.stdinIsTerminal() {
		return nil, noSource
	}
	const attempts = 3
	for i := 0; i < attempts; i++ {
		p1, err := a.readPassword(ctx, "Enter new passphrase: ")
		if err != nil {
			return nil, err
		}
		if len(p1) == 0 {
			fmt.Fprintln(a.stderr, "The passphrase is empty; type one (to really use an empty passphrase, set GOBAK_NEW_PASSPHRASE=\"\").")
			continue
		}
		p2, err := a.readPassword(ctx, "Enter the same passphrase again: ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(p1, p2) {
			fmt.Fprintln(a.stderr, "The passphrases do not match; try again.")
			continue
		}
		return p1, nil
	}
	return nil, fmt.Errorf("no new passphrase after %d attempts", attempts)
}

// passCommand runs GOBAK_PASSCOMMAND with sh -c and returns its output
// without one trailing newline.
func (a *app) passCommand(ctx context.Context, command string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdin = a.stdin
	cmd.Stderr = a.stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, withHint(fmt.Errorf("GOBAK_PASSCOMMAND failed: %v", err), "check the command, or set GOBAK_PASSPHRASE instead")
	}
	return trimNewline(out), nil
}

// trimNewline removes one trailing "\n" or "\r\n".
func trimNewline(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\r\n")) {
		return b[:len(b)-2]
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

// readPassphraseFD reads the passphrase from the file descriptor named by
// the value of GOBAK_PASSPHRASE_FD, up to the first newline or EOF; 0 means
// stdin. The descriptor is read with plain read(2) calls and left open, so
// that a wrong number can never close a descriptor the Go runtime uses.
func readPassphraseFD(value string, stdin io.Reader) ([]byte, error) {
	fd, err := strconv.Atoi(value)
	if err != nil || fd < 0 {
		return nil, withHint(fmt.Errorf("GOBAK_PASSPHRASE_FD=%q is not a file descriptor number", value), "set it to the number of an open file descriptor")
	}
	var r io.Reader
	switch fd {
	case 0:
		r = stdin
	case 1, 2:
		return nil, withHint(fmt.Errorf("GOBAK_PASSPHRASE_FD=%d is stdout or stderr", fd), "pass the passphrase on another file descriptor")
	default:
		r = fdReader(fd)
	}
	var buf []byte
	one := make([]byte, 1)
	for len(buf) <= maxPassphrase {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return trimNewline(append(buf, '\n')), nil
			}
			buf = append(buf, one[0])
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, withHint(fmt.Errorf("read passphrase from GOBAK_PASSPHRASE_FD=%d: %v", fd, err), "check that the file descriptor is open for reading")
		}
	}
	return nil, fmt.Errorf("GOBAK_PASSPHRASE_FD=%d: passphrase longer than %d bytes", fd, maxPassphrase)
}

// fdReader reads a raw file descriptor with read(2).
type fdReader int

func (fd fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// readPasswordTTY prints prompt on the terminal (/dev/tty, else stderr) and
// reads a line without echo. Canceling ctx (Ctrl-C) restores the terminal
// and returns the cancellation cause.
func readPasswordTTY(ctx context.Context, prompt string, stderr io.Writer) ([]byte, error) {
	in := os.Stdin
	var out io.Writer = stderr
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		defer tty.Close()
		in, out = tty, tty
	}
	fd := int(in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	fmt.Fprint(out, prompt)
	type result struct {
		pass []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		p, err := term.ReadPassword(fd)
		ch <- result{p, err}
	}()
	select {
	case r := <-ch:
		fmt.Fprintln(out)
		if r.err != nil {
			return nil, fmt.Errorf("read passphrase: %w", r.err)
		}
		return r.pass, nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(out)
		return nil, context.Cause(ctx)
	}
}
