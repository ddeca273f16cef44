package sftp

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyCallback builds the host key check from cfg.KnownHostsFiles. It
// also returns a function giving, for an address, the host key algorithms
// to offer so that the server picks a key type the files hold (otherwise a
// server with several host keys could present one we do not know and look
// "changed").
func hostKeyCallback(cfg *Config) (ssh.HostKeyCallback, func(addr string) []string, error) {
	var files []string
	for _, f := range cfg.KnownHostsFiles {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%w: host key of %s cannot be checked: none of the known_hosts files exist (%s); connect once with `ssh -p %s %s@%s` to record it",
			ErrUnknownHost, cfg.Host, strings.Join(cfg.KnownHostsFiles, ", "), cfg.port(), cfg.User, cfg.Host)
	}
	check, err := knownhosts.New(files...)
	if err != nil {
		return nil, nil, fmt.Errorf("known_hosts: %w", err)
	}
	list := strings.Join(files, ", ")
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) {
			return err
		}
		fp := ssh.FingerprintSHA256(key)
		if len(ke.Want) == 0 {
			return fmt.Errorf("%w: %s key %s of %s is not in %s; verify the fingerprint with the server's administrator, then connect once with `ssh -p %s %s@%s` and accept it",
				ErrUnknownHost, key.Type(), fp, hostname, list, cfg.port(), cfg.User, cfg.Host)
		}
		var where []string
		for _, w := range ke.Want {
			where = append(where, fmt.Sprintf("%s:%d", w.Filename, w.Line))
		}
		return fmt.Errorf("%w: %s presented %s key %s, which differs from the key recorded at %s; someone may be intercepting the connection. If the server's key was legitimately replaced, remove the old entry with `ssh-keygen -R '%s' -f FILE` and connect once with ssh",
			ErrHostKeyChanged, hostname, key.Type(), fp, strings.Join(where, ", "), knownhosts.Normalize(hostname))
	}
	algos := func(addr string) []string {
		return knownAlgorithms(check, addr)
	}
	return cb, algos, nil
}

// knownAlgorithms returns the host key algorithms matching the key types
// recorded for addr, or nil (the library default) if none are recorded.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	// A throwaway key that cannot be in the files makes the callback
	// report every recorded key for addr.
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(bytes.Repeat([]byte{0x5a}, ed25519.PublicKeySize)))
	if err != nil {
		return nil
	}
	tcp, _ := net.ResolveTCPAddr("tcp", addr)
	var remote net.Addr = &net.TCPAddr{}
	if tcp != nil {
		remote = tcp
	}
	var ke *knownhosts.KeyError
	if !errors.As(check(addr, remote, probe), &ke) {
		return nil
	}
	seen := make(map[string]bool)
	var out []string
	add := func(a ...string) {
		for _, s := range a {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	for _, w := range ke.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return out
}
