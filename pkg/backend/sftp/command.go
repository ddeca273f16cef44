package sftp

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
)

// commandExitWait is how long Close waits for the command to exit after
// its stdin is closed before it kills it.
const commandExitWait = 5 * time.Second

// commandWaitDelay bounds how long, once the command has exited, its
// output pipes are waited for (they may be held by processes it started).
const commandWaitDelay = 2 * time.Second

// ignoreInterruptShell runs the command with SIGINT ignored.
const ignoreInterruptShell = "/bin/sh"

// startCommand runs cfg.Command and speaks SFTP over its stdin/stdout.
// If the command exits, its stdout reaches EOF and every pending and
// later request fails with a connection-lost error.
func startCommand(ctx context.Context, cfg *Config) (*transport, error) {
	name := strings.Join(cfg.Command, " ")
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	if _, err := os.Stat(ignoreInterruptShell); err == nil {
		// The terminal's Ctrl-C goes to the whole foreground process
		// group. The command must not die of it before its parent has
		// finished with the session (saved what it uploaded, removed
		// its lock): it runs with SIGINT ignored (as borg runs ssh), and
		// the parent closes it. A shell sets that up, as Go cannot
		// between fork and exec; ignored signals stay ignored across
		// exec.
		cmd = exec.Command(ignoreInterruptShell, append([]string{"-c", `trap '' INT; exec "$0" "$@"`}, cfg.Command...)...)
	}
	// Processes the command started (a ProxyCommand, or ssh under a
	// wrapper) may keep its stderr open after it was killed: Wait does
	// not wait for them longer than this.
	cmd.WaitDelay = commandWaitDelay
	out := cfg.Stderr
	if out == nil {
		out = io.Discard
	}
	// Until the session is up, the command's messages are held back: if
	// it fails, its last message becomes part of the error instead.
	stderr := &heldStderr{out: out}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	type result struct {
		c   *sftp.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := sftp.NewClientPipe(stdout, stdin, clientOptions...)
		done <- result{c, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		kill()
		<-done
		return nil, fmt.Errorf("run %s: %w", name, ctx.Err())
	case <-time.After(timeout):
		kill()
		<-done
		return nil, fmt.Errorf("run %s: no SFTP greeting within %v", name, timeout)
	}
	if res.err != nil {
		kill()
		if line := stderr.lastLine(); line != "" {
			return nil, fmt.Errorf("%s failed: %s (%v)", filepath.Base(cfg.Command[0]), line, waitErr)
		}
		return nil, fmt.Errorf("run %s: start sftp: %w (command exited: %v)", name, res.err, waitErr)
	}
	stderr.release()

	var once sync.Once
	var cerr error
	return &transport{
		client: res.c,
		close: func() error {
			once.Do(func() {
				// Closing stdin ends the session and ssh exits; Close
				// returns when the command's stdout is at EOF, so a
				// command that does not exit is killed.
				closed := make(chan error, 1)
				go func() { closed <- res.c.Close() }()
				select {
				case <-exited:
				case <-time.After(commandExitWait):
					kill()
				}
				cerr = <-closed
			})
			return cerr
		},
	}, nil
}

// heldStderr keeps what a command writes to its standard error (up to
// maxHeldStderr bytes) until release, then passes it on to out, along
// with everything written later.
type heldStderr struct {
	mu       sync.Mutex
	out      io.Writer
	held     []byte
	released bool
}

// maxHeldStderr bounds what heldStderr keeps before release.
const maxHeldStderr = 16 << 10

func (h *heldStderr) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return h.out.Write(p)
	}
	if room := maxHeldStderr - len(h.held); room > 0 {
		h.held = append(h.held, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

// release passes what was held on, and everything later straight through.
func (h *heldStderr) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.released = true
	if len(h.held) > 0 {
		_, _ = h.out.Write(h.held)
		h.held = nil
	}
}

// lastLine returns the last non-blank line held.
func (h *heldStderr) lastLine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(h.held)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
