package main

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/backend/s3"
	"github.com/gobak/gobak/pkg/backend/sftp"
)

// Over the network every request costs a round trip: restores read over
// larger gaps between the blobs they need (fewer, larger ranged reads),
// and keep more reads in flight.
const (
	remoteReadGap = 2 << 20
	remoteWorkers = 4
)

// remote reports whether the repository at l is reached over the network.
func (l location) remote() bool { return l.Scheme == "sftp" || l.Scheme == "s3" }

// restoreWorkers is the number of goroutines a restore of the repository
// at loc loads file content with (0: the default, one per CPU).
func restoreWorkers(loc location) int {
	if loc.remote() {
		return remoteWorkers
	}
	return 0
}

// storage opens the storage of the repository at loc, or with create makes
// a new, empty one: a local directory or a directory on an SFTP server.
func (a *app) storage(ctx context.Context, loc location, create bool) (backend.Backend, error) {
	if loc.Scheme == "sftp" {
		cfg := a.sftpConfig(loc)
		open := sftp.Open
		if create {
			open = sftp.Create
		}
		be, err := open(ctx, cfg)
		if err != nil {
			return nil, err // (a nil *SFTP must not become a non-nil Backend)
		}
		return be, nil
	}
	if loc.Scheme == "s3" {
		cfg, err := a.s3Config(loc)
		if err != nil {
			return nil, err
		}
		open := s3.Open
		if create {
			open = s3.Create
		}
		be, err := open(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return be, nil
	}
	if create {
		return local.Create(loc.Path)
	}
	return local.Open(loc.Path)
}

// s3Config says how to reach an s3:// repository, with the credentials of
// the usual AWS_* variables.
func (a *app) s3Config(loc location) (s3.Config, error) {
	cfg := s3.Config{
		Endpoint: loc.Host, Secure: loc.Secure, Bucket: loc.Bucket, Prefix: loc.Prefix,
		AccessKeyID: a.getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: a.getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: a.getenv("AWS_SESSION_TOKEN"), Region: a.getenv("AWS_DEFAULT_REGION"),
	}
	switch {
	case loc.Port != "":
		cfg.Endpoint = net.JoinHostPort(loc.Host, loc.Port)
	case strings.Contains(loc.Host, ":"): // IPv6: the port must be spelled out
		port := "443"
		if !loc.Secure {
			port = "80"
		}
		cfg.Endpoint = net.JoinHostPort(loc.Host, port)
	}
	if cfg.Region == "" {
		cfg.Region = a.getenv("AWS_REGION")
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return cfg, withHint(&msgError{msg: "repository " + loc.String() + ": no S3 credentials", err: s3.ErrConfig},
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	return cfg, nil
}

// sftpConfig says how to reach an sftp:// repository. As borg does with
// BORG_RSH, gobak runs the ssh client, so that ~/.ssh/config (aliases,
// ProxyJump, IdentityFile), agents, certificates and known_hosts work as
// for ssh itself: the command is $GOBAK_RSH (default "ssh"), given the
// port, user and host of the URL and "-s sftp". Without an ssh client, it
// connects on its own with the keys and known_hosts files in ~/.ssh and
// the agent of $SSH_AUTH_SOCK.
func (a *app) sftpConfig(loc location) sftp.Config {
	cfg := sftp.Config{User: loc.User, Host: loc.Host, Port: loc.Port, Path: loc.Path, Stderr: a.stderr}
	rsh := a.getenv("GOBAK_RSH")
	if rsh == "" {
		if _, err := exec.LookPath("ssh"); err == nil {
			rsh = "ssh"
		}
	}
	if rsh != "" {
		// Options given first win in ssh, so GOBAK_RSH's own -o options
		// override these keepalives.
		cmd := append(strings.Fields(rsh), "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3")
		if loc.Port != "" {
			cmd = append(cmd, "-p", loc.Port)
		}
		if loc.User != "" {
			cmd = append(cmd, "-l", loc.User)
		}
		cfg.Command = append(cmd, loc.Host, "-s", "sftp")
		return cfg
	}
	if cfg.User == "" {
		cfg.User = a.username()
	}
	dir := filepath.Join(a.home(), ".ssh")
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_ed25519_sk", "id_ecdsa_sk", "id_rsa"} {
		cfg.IdentityFiles = append(cfg.IdentityFiles, filepath.Join(dir, name))
	}
	cfg.KnownHostsFiles = []string{filepath.Join(dir, "known_hosts"), filepath.Join(dir, "known_hosts2"),
		"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}
	cfg.AgentSocket = a.getenv("SSH_AUTH_SOCK")
	return cfg
}
