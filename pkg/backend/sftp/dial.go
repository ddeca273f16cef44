package sftp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// clientOptions are the pkg/sftp options used on every connection:
// pipelined writes (a failed Save only leaves a temporary file, which is
// removed) and, for ranged loads, pipelined reads (the default).
var clientOptions = []sftp.ClientOption{
	sftp.UseConcurrentWrites(true),
	sftp.MaxConcurrentRequestsPerFile(64),
}

// transport is an open SFTP session and what is needed to tear it down.
type transport struct {
	client *sftp.Client
	// close shuts the session and its carrier (SSH connection or
	// command) down; it is called once.
	close func() error
}

// dialNative connects to cfg.Host with golang.org/x/crypto/ssh and starts
// the sftp subsystem.
func dialNative(ctx context.Context, cfg *Config) (*transport, error) {
	hostKey, hostKeyAlgos, err := hostKeyCallback(cfg)
	if err != nil {
		return nil, err
	}
	auth, agentConn, skipped, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	closeAgent := func() {
		if agentConn != nil {
			_ = agentConn.Close()
		}
	}
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	addr := cfg.addr()
	sshCfg := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   hostKey,
		HostKeyAlgorithms: hostKeyAlgos(addr),
		Timeout:           timeout,
	}

	d := net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		closeAgent()
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	// Bound the handshake by the timeout and by ctx.
	_ = nc.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, sshCfg)
	if err == nil {
		_ = nc.SetDeadline(time.Time{})
	}
	if !stop() || err != nil {
		_ = nc.Close()
		closeAgent()
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, cerr)
		}
		if len(skipped) > 0 && strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("connect to %s as %s: %w (identity files skipped: %s)",
				addr, cfg.User, err, strings.Join(skipped, "; "))
		}
		return nil, fmt.Errorf("connect to %s as %s: %w", addr, cfg.User, err)
	}
	sshClient := ssh.NewClient(sc, chans, reqs)
	closeAll := func() error {
		err := sshClient.Close()
		closeAgent()
		return err
	}

	// The sftp handshake happens on the live connection; bound it too.
	type result struct {
		c   *sftp.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := sftp.NewClient(sshClient, clientOptions...)
		done <- result{c, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		_ = closeAll()
		<-done
		return nil, fmt.Errorf("start sftp on %s: %w", addr, ctx.Err())
	case <-time.After(timeout):
		_ = closeAll()
		<-done
		return nil, fmt.Errorf("start sftp on %s: timed out after %v", addr, timeout)
	}
	if res.err != nil {
		_ = closeAll()
		return nil, fmt.Errorf("start sftp on %s (is the sftp subsystem enabled?): %w", addr, res.err)
	}

	ka := startKeepalive(sshClient, cfg.ServerAliveInterval, cfg.ServerAliveCountMax)
	var once sync.Once
	var cerr error
	return &transport{
		client: res.c,
		close: func() error {
			once.Do(func() {
				ka.stop()
				// Close the SSH connection first: the sftp client's
				// Close waits for its reader, which a stalled server
				// would otherwise block forever.
				err := closeAll()
				if errors.Is(err, net.ErrClosed) {
					err = nil // already dropped by the keepalive
				}
				_ = res.c.Close()
				cerr = err
			})
			return cerr
		},
	}, nil
}

// authMethods returns the public-key authentication method for cfg: the
// agent's keys (if cfg.AgentSocket is set) then the identity files. It
// also returns the agent connection (to close) and the reasons identity
// files were skipped. Unreadable or unparsable files are errors.
func authMethods(cfg *Config) ([]ssh.AuthMethod, net.Conn, []string, error) {
	var signers []ssh.Signer
	var skipped []string
	for _, file := range cfg.IdentityFiles {
		pem, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("identity file: %w", err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			if cfg.Passphrase == nil {
				skipped = append(skipped, file+": passphrase-protected (use an agent or the ssh command)")
				continue
			}
			pass, perr := cfg.Passphrase(file)
			if perr != nil {
				return nil, nil, nil, fmt.Errorf("identity file %s: passphrase: %w", file, perr)
			}
			s, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("identity file %s: %w", file, err)
		}
		signers = append(signers, s)
	}

	var agentConn net.Conn
	var agentSigners func() ([]ssh.Signer, error)
	if cfg.AgentSocket != "" {
		c, err := net.Dial("unix", cfg.AgentSocket)
		if err != nil {
			// ssh also carries on without an unreachable agent.
			skipped = append(skipped, "agent "+cfg.AgentSocket+": "+err.Error())
		} else {
			agentConn = c
			agentSigners = agent.NewClient(c).Signers
		}
	}
	if len(signers) == 0 && agentSigners == nil {
		return nil, nil, nil, fmt.Errorf("%w: no usable private key (identity files tried: %s; skipped: %s)",
			ErrConfig, strings.Join(cfg.IdentityFiles, ", "), strings.Join(skipped, "; "))
	}
	cb := func() ([]ssh.Signer, error) {
		var all []ssh.Signer
		if agentSigners != nil {
			as, err := agentSigners()
			if err == nil {
				all = append(all, as...)
			}
		}
		return append(all, signers...), nil
	}
	return []ssh.AuthMethod{ssh.PublicKeysCallback(cb)}, agentConn, skipped, nil
}

// keepalive sends keepalive@openssh.com requests on an idle-or-busy
// connection and closes the connection when they go unanswered.
type keepalive struct {
	done chan struct{}
	once sync.Once
}

func (k *keepalive) stop() {
	if k.done != nil {
		k.once.Do(func() { close(k.done) })
	}
}

// startKeepalive starts the keepalive loop on c (unless interval < 0).
// A keepalive is sent every interval; if one is not answered within
// interval*countMax the connection is closed, which makes every pending
// and later SFTP request fail with a connection-lost error.
func startKeepalive(c *ssh.Client, interval time.Duration, countMax int) *keepalive {
	k := &keepalive{}
	if interval < 0 {
		return k
	}
	if interval == 0 {
		interval = DefaultServerAliveInterval
	}
	if countMax <= 0 {
		countMax = DefaultServerAliveCountMax
	}
	k.done = make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-k.done:
				return
			case <-t.C:
			}
			reply := make(chan error, 1)
			go func() {
				_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
				reply <- err
			}()
			timer := time.NewTimer(interval * time.Duration(countMax))
			select {
			case <-k.done:
				timer.Stop()
				return
			case err := <-reply:
				timer.Stop()
				if err != nil {
					_ = c.Close()
					return
				}
			case <-timer.C:
				_ = c.Close()
				return
			}
		}
	}()
	return k
}
