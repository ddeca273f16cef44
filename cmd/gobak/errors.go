package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gobak/gobak/pkg/backend/sftp"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo"
)

// Exit codes (borg's).
const (
	exitOK      = 0
	exitWarning = 1
	exitError   = 2
	// exitSignal + N is the exit code after signal N.
	exitSignal = 128
)

// warningExit ends a command that did its job but must report something
// left undone (borg's "warning"): main prints the message and exits 1.
type warningExit struct{ msg string }

func (e *warningExit) Error() string { return e.msg }

// usageError is a mistake on the command line. It is reported with a hint
// to read the command's help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// runtimeError marks an error returned by a command's RunE, so that main can
// tell it from cobra's own argument and flag errors (which are usage
// errors).
type runtimeError struct{ err error }

func (e *runtimeError) Error() string { return e.err.Error() }
func (e *runtimeError) Unwrap() error { return e.err }

// msgError replaces the text of an error while keeping it in the chain, so
// errors.Is still finds the sentinels.
type msgError struct {
	msg string
	err error
}

func (e *msgError) Error() string { return e.msg }
func (e *msgError) Unwrap() error { return e.err }

// hintError attaches "what to do" to an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withHint returns err with a hint telling the user what to do.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// repoError rewrites an error of packages repo and backend about the
// repository at loc into "repository LOC: why", or "LOC is not a gobak
// repository (...)", keeping the error chain.
func repoError(loc string, err error) error {
	if err == nil {
		return nil
	}
	var me *msgError
	var he *hintError
	if errors.As(err, &me) || errors.As(err, &he) {
		return err // already phrased
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	rest := err.Error()
	if i := strings.Index(rest, loc+": "); i >= 0 {
		rest = rest[i+len(loc)+2:]
	} else {
		rest = strings.TrimPrefix(rest, "open "+loc+": ")
	}
	switch {
	case errors.Is(err, repo.ErrNotRepository):
		rest = strings.TrimPrefix(rest, repo.ErrNotRepository.Error())
		rest = strings.TrimPrefix(rest, ": ")
		rest = strings.TrimPrefix(rest, "not a gobak repository config: ")
		rest = strings.TrimSpace(rest)
		msg := loc + " is not a gobak repository"
		if rest != "" {
			if strings.HasPrefix(rest, "(") {
				msg += " " + rest
			} else {
				msg += " (" + rest + ")"
			}
		}
		return &msgError{msg: msg, err: err}
	}
	return &msgError{msg: "repository " + loc + ": " + rest, err: err}
}

// defaultHint suggests what to do about well-known errors.
func defaultHint(err error) string {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, repo.ErrWrongPassphrase):
		return ""
	case errors.Is(err, repo.ErrUnsupportedVersion):
		return "upgrade gobak to a version that reads this repository format"
	case errors.Is(err, repo.ErrNotRepository):
		return "check the path or create a repository with 'gobak init'"
	case errors.Is(err, repo.ErrNoKey):
		return "restore the key with 'gobak key import'"
	case errors.Is(err, repo.ErrLocked):
		return "wait for the other process to finish, or if no gobak process uses the repository, run 'gobak break-lock'"
	case errors.Is(err, index.ErrInUse):
		return "another gobak process is using the cache; wait for it to finish or give this one its own --cache-dir"
	case errors.Is(err, sftp.ErrConnectionLost):
		return "the connection to the server was lost: run the command again (what was stored is kept)"
	case errors.Is(err, repo.ErrDamaged):
		return "the repository may be damaged; check it with 'gobak check' before writing to it"
	}
	return ""
}

// errorMessage renders err as the one line gobak prints (without the
// "gobak: " prefix): what failed, why, and what to do.
func errorMessage(err error) string {
	msg := tidy(err.Error())
	hint := defaultHint(err)
	var he *hintError
	if errors.As(err, &he) {
		hint = he.hint
	}
	if hint != "" && !strings.Contains(msg, "; ") {
		msg += "; " + hint
	}
	return oneLine(msg)
}

// tidy removes the repetitions that wrapping sentinel errors leaves behind,
// as in "x: unsupported version: unsupported version: 2": a segment equal
// to the one before it, a segment that the next one extends ("not a
// repository: not a repository config"), and a last segment that already
// appeared earlier.
func tidy(msg string) string {
	parts := strings.Split(msg, ": ")
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		if i+1 < len(parts) && p != "" && strings.HasPrefix(parts[i+1], p+" ") {
			continue
		}
		if i == len(parts)-1 && i > 0 && strings.Contains(strings.Join(out, ": "), p) {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ": ")
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "\n", " ")
}
