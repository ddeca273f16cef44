package repo

import (
	"log/slog"
	"time"

	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
)

// Options control how a repository is opened. The zero value opens a
// repository without encryption using a temporary cache.
type Options struct {
	// Passphrase is called at most once, and only when a key file must be
	// opened or written. It may be nil for repositories with encryption
	// "none".
	Passphrase func() ([]byte, error)
	// KeysDir is where "keyfile" mode keeps key files.
	KeysDir string
	// CacheDir is the root of the local cache: the index cache is kept in
	// CacheDir/<repository id>/index.db. If empty, a temporary directory
	// is used and removed by Close.
	CacheDir string
	// Logger receives warnings (damaged index files, stale locks). Nil
	// discards them.
	Logger *slog.Logger
	// Hostname and Username are recorded in locks and key files. Empty
	// means os.Hostname and "".
	Hostname, Username string
	// Uploaders is the number of packs uploaded at once (default 2).
	Uploaders int
	// IndexInterval is the longest time uploaded packs wait before an index
	// file names them (default 60s). Shorter means less to re-upload after
	// a crash, and more index files.
	IndexInterval time.Duration
	// IndexMaxPacks writes an index file as soon as this many packs are
	// waiting for one (default 64).
	IndexMaxPacks int
	// IndexMaxBlobs writes an index file as soon as the packs waiting for
	// one hold this many blobs (default 65536). The blobs of those packs
	// are kept in memory until then: this bounds that memory when packs
	// hold many small blobs.
	IndexMaxBlobs int
	// ReadGap is the largest gap between two blobs of a pack that
	// LoadBlobs reads over (and throws away) to load both with one ranged
	// read (default 256 KiB). A backend where each request costs a round
	// trip (SFTP, S3) is faster with a larger gap.
	ReadGap int
}

// InitOptions control repository creation.
type InitOptions struct {
	Options
	// Encryption is "repokey" (the default), "keyfile" or "none".
	Encryption string
	// Suite is the AEAD; default AES-256-GCM. Ignored for "none".
	Suite crypto.Suite
	// Compression is the default compression, e.g. "lz4" (the default) or
	// "auto,zstd,10".
	Compression string
	// Chunker bounds chunk sizes; the zero value means the defaults.
	Chunker chunker.Params
	// PackSize is the target pack size in bytes (default 16 MiB).
	PackSize uint32
	// KDF sets the argon2id cost of the key file; zero means
	// crypto.DefaultKDF.
	KDF crypto.KDFParams
}

// Defaults.
const (
	DefaultPackSize      = 16 << 20
	MinPackSize          = 1 << 20
	MaxPackSize          = 1 << 30
	defaultIndexInterval = 60 * time.Second
	defaultIndexMaxPacks = 64
	defaultIndexMaxBlobs = 1 << 16
	defaultUploaders     = 2
	defaultReadGap       = 256 << 10
)

func (o *Options) setDefaults() {
	if o.Uploaders <= 0 {
		o.Uploaders = defaultUploaders
	}
	if o.IndexInterval <= 0 {
		o.IndexInterval = defaultIndexInterval
	}
	if o.IndexMaxPacks <= 0 {
		o.IndexMaxPacks = defaultIndexMaxPacks
	}
	if o.IndexMaxBlobs <= 0 {
		o.IndexMaxBlobs = defaultIndexMaxBlobs
	}
	if o.ReadGap <= 0 {
		o.ReadGap = defaultReadGap
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Config is a repository's settings, read from its config file.
type Config struct {
	ID          id.ID
	Version     int
	Encryption  string
	Suite       crypto.Suite
	Polynomial  chunker.Pol
	Chunker     chunker.Params
	PackSize    uint32
	Compression compress.Spec
	Created     time.Time
}
