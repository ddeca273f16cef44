package sftp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"
)

// Defaults for the zero values of Config fields.
const (
	// DefaultPort is the SSH port used when Config.Port is empty.
	DefaultPort = "22"
	// DefaultConnectTimeout bounds connecting and the SSH handshake.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultServerAliveInterval is how long the native client waits on an
	// idle connection before it sends a keepalive.
	DefaultServerAliveInterval = 15 * time.Second
	// DefaultServerAliveCountMax is how many keepalive intervals the
	// native client waits for an answer before it drops the connection.
	DefaultServerAliveCountMax = 3
)

// Sentinel errors of this package; test for them with errors.Is.
var (
	// ErrConnectionLost means the SFTP connection is gone; the backend
	// must be closed and opened again.
	ErrConnectionLost = errors.New("sftp connection lost")
	// ErrUnknownHost means the server's host key is in none of the
	// known_hosts files.
	ErrUnknownHost = errors.New("unknown SSH host key")
	// ErrHostKeyChanged means the known_hosts files hold a different key
	// for the server: either the server was reinstalled or someone is
	// intercepting the connection.
	ErrHostKeyChanged = errors.New("SSH host key changed")
	// ErrConfig means Config is incomplete or inconsistent.
	ErrConfig = errors.New("invalid sftp configuration")
)

// Config says where a repository is and how to connect to it. The package
// reads nothing else: no environment variables and no ~/.ssh files other
// than those named here.
type Config struct {
	// User is the login name on the server. Required for the native
	// client; with Command it only appears in Location.
	User string
	// Host is the server's name or IP address. Required for the native
	// client; with Command it only appears in Location.
	Host string
	// Port is the server's SSH port; "" means DefaultPort.
	Port string
	// Path is the repository directory on the server. A relative path is
	// relative to the login (home) directory. Required.
	Path string

	// Command, if not empty, is run (Command[0] with arguments
	// Command[1:], looked up in PATH) and SFTP is spoken over its stdin
	// and stdout instead of dialing Host with the native client; the
	// fields below, except Stderr and ConnectTimeout, are then ignored.
	// Typically {"ssh", "-p", port, "user@host", "-s", "sftp"}.
	Command []string
	// Stderr receives the command's standard error (its diagnostics,
	// such as ssh's "Permission denied"); nil discards it.
	Stderr io.Writer

	// IdentityFiles are private key files (OpenSSH or PEM format) to
	// authenticate with, tried in order after the agent's keys. Files
	// that do not exist are skipped silently, so the usual defaults can
	// be listed.
	IdentityFiles []string
	// Passphrase, if not nil, is called for a passphrase-protected
	// identity file. If it is nil such files are skipped (and named in
	// the error if authentication fails).
	Passphrase func(file string) ([]byte, error)
	// AgentSocket is the path of an ssh-agent socket whose keys are tried
	// first; "" means no agent.
	AgentSocket string
	// KnownHostsFiles are OpenSSH known_hosts files to check the server's
	// host key against (hashed entries and "[host]:port" entries are
	// understood). Missing files are skipped; at least one must exist.
	KnownHostsFiles []string
	// ServerAliveInterval is how long an idle connection waits before a
	// keepalive is sent; 0 means DefaultServerAliveInterval, a negative
	// value disables keepalives.
	ServerAliveInterval time.Duration
	// ServerAliveCountMax is how many intervals an unanswered keepalive
	// is waited for before the connection is dropped; 0 means
	// DefaultServerAliveCountMax.
	ServerAliveCountMax int
	// ConnectTimeout bounds dialing, the SSH handshake and the start of
	// the SFTP session; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
}

// port returns the configured port or the default.
func (c *Config) port() string {
	if c.Port == "" {
		return DefaultPort
	}
	return c.Port
}

// addr returns host:port for dialing.
func (c *Config) addr() string { return net.JoinHostPort(c.Host, c.port()) }

// check validates c for Open and Create.
func (c *Config) check() error {
	if c.Path == "" {
		return fmt.Errorf("%w: empty repository path", ErrConfig)
	}
	if len(c.Command) > 0 {
		if c.Command[0] == "" {
			return fmt.Errorf("%w: empty command name", ErrConfig)
		}
		return nil
	}
	switch {
	case c.Host == "":
		return fmt.Errorf("%w: no host", ErrConfig)
	case c.User == "":
		return fmt.Errorf("%w: no user", ErrConfig)
	case len(c.KnownHostsFiles) == 0:
		return fmt.Errorf("%w: no known_hosts file: host keys cannot be checked", ErrConfig)
	}
	return nil
}

// location returns "sftp://user@host:port/dir" for the absolute directory
// dir (or the configured Path before it is resolved).
func (c *Config) location(dir string) string {
	if c.Host == "" {
		// A Command without Host: there is no address to show.
		return "sftp:" + dir
	}
	u := url.URL{Scheme: "sftp", Host: net.JoinHostPort(c.Host, c.port()), Path: dir}
	if c.User != "" {
		u.User = url.User(c.User)
	}
	if len(dir) > 0 && dir[0] != '/' {
		// A relative path before resolution: keep it readable.
		u.Path = "/~/" + dir
	}
	return u.String()
}
