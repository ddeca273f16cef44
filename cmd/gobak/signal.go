package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signalError is the cancellation cause of the context returned by
// notifyContext: it records which signal arrived, for the exit code.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string {
	switch e.sig {
	case syscall.SIGINT:
		return "interrupted (SIGINT)"
	case syscall.SIGTERM:
		return "terminated (SIGTERM)"
	}
	return fmt.Sprintf("stopped by signal %d (%v)", int(e.sig), e.sig)
}

// Is makes a signal cancellation match context.Canceled.
func (e signalError) Is(target error) bool { return target == context.Canceled }

// notifyContext is signal.NotifyContext for SIGINT and SIGTERM, except that
// the cause it cancels with carries the signal number (so the exit code can
// be 128+N), and that after the first signal the default handling is
// restored: a second Ctrl-C kills the process at once.
func notifyContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			sig, _ := s.(syscall.Signal)
			cancel(signalError{sig: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}
