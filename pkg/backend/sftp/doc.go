// Package sftp implements backend.Backend on a directory of an SFTP server
// (normally OpenSSH's sftp-server or internal-sftp), in exactly the layout
// of package local, so that a repository copied with rsync or scp between
// a local directory and an SFTP server works unchanged.
//
// # Connecting
//
// A backend speaks SFTP over one of two transports, chosen by Config:
//
//   - Config.Command: a command whose stdin and stdout speak SFTP, normally
//     the system ssh client, "ssh [options] user@host -s sftp". This honours
//     everything in the user's ~/.ssh/config (Host aliases, ProxyJump,
//     ProxyCommand, ControlMaster, certificates, hardware keys, agents and
//     passphrase prompts), and is what most administrators expect.
//   - otherwise a native client (golang.org/x/crypto/ssh) that dials
//     Host:Port and authenticates with the private key files in
//     Config.IdentityFiles and, optionally, an ssh-agent socket. Host keys
//     are always checked against Config.KnownHostsFiles; an unknown or a
//     changed host key is refused with an error wrapping ErrUnknownHost or
//     ErrHostKeyChanged that names the files and says what to do. The
//     native client sends keepalives (Config.ServerAliveInterval), so a
//     connection to a vanished server fails instead of hanging.
//
// The package never reads environment variables or ~/.ssh itself: the
// caller (the CLI) fills Config.
//
// # Saving
//
// Save writes ".tmp-<random hex>" in the target directory (created
// exclusively, mode 0400), fsyncs it (fsync@openssh.com, when the server
// has it), hard-links it to its final name (hardlink@openssh.com, or the
// plain SFTP rename, which on OpenSSH is link+unlink and never replaces an
// existing file), removes the temporary name and fsyncs the directory. An
// existing final name is never overwritten: Save then returns an error
// wrapping backend.ErrExist. posix-rename@openssh.com, which does replace,
// is used only by Replace. A killed process may leave ".tmp-" files;
// List ignores them and RemoveTemp deletes them.
//
// # Lost connections
//
// The backend does not reconnect. Once the connection is lost (server or
// ssh process killed, network down, keepalives unanswered), every pending
// and later operation returns an error wrapping ErrConnectionLost
// promptly, and the caller must Close the backend and Open a new one.
// Contexts are checked before every operation and between the requests of
// Save and List; a request already sent to a live but stalled server is
// waited for.
package sftp
