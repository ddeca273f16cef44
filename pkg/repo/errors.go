package repo

import (
	"errors"

	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// Sentinel errors. Returned errors wrap them with context.
var (
	// ErrNotRepository: the location has no gobak config file, or the
	// config file is not a gobak config.
	ErrNotRepository = format.ErrNotGobak
	// ErrUnsupportedVersion: the repository's format version is unknown to
	// this build.
	ErrUnsupportedVersion = format.ErrVersion
	// ErrWrongPassphrase: no key file of the repository opens with the
	// passphrase given.
	ErrWrongPassphrase = crypto.ErrWrongPassphrase
	// ErrNoKey: no usable key file was found for the repository.
	ErrNoKey = errors.New("no usable key file")
	// ErrKeyDamaged: the repository's key file exists but does not parse
	// (returned together with ErrNoKey). Restore it from an export.
	ErrKeyDamaged = errors.New("key file is damaged")
	// ErrAlreadyExists: Init found an existing repository.
	ErrAlreadyExists = errors.New("repository already exists")
	// ErrBlobNotFound: the index knows no blob with that ID.
	ErrBlobNotFound = errors.New("blob not found")
	// ErrDamaged: stored data failed authentication, decoding or its ID
	// check.
	ErrDamaged = errors.New("damaged data")
	// ErrLocked: another process holds a conflicting lock.
	ErrLocked = errors.New("repository is locked")
	// ErrClosed: the repository was closed.
	ErrClosed = errors.New("repository is closed")
)
