package repo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/index"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// Associated data that binds each sealed structure to its role, so one
// cannot be substituted for another.
var (
	adTrailer       = []byte("gobak pack trailer v1")
	adIndex         = []byte("gobak index v1")
	adArchive       = []byte("gobak archive v1")
	idKeyCheckInput = []byte("gobak id key check v1")
)

func configAD(repoID id.ID) []byte {
	return append([]byte("gobak config v1 "), repoID[:]...)
}

// Repo is an open repository. Its methods are safe for concurrent use.
type Repo struct {
	be   backend.Backend
	opts Options
	cfg  Config
	key  *crypto.Key

	keyMu     sync.Mutex     // guards the three key fields below
	keyHandle backend.Handle // repokey: the key file that opened the repo
	keyPath   string         // keyfile: the key file that opened the repo
	keyBytes  []byte         // that key file's bytes, for export

	cache        *index.Cache
	cacheTempDir string

	ctx    context.Context // lives until Close; cancels uploads
	cancel context.CancelFunc

	w writer

	closeOnce sync.Once

	lockMu sync.Mutex
	lock   *Lock // the lock writes depend on, if any (UseLock)
}

// UseLock ties the repository's writes to a held lock: once the lock is
// lost (see Lock.Lost), Flush and SaveArchive fail with an error wrapping
// ErrLocked instead of writing on without it.
func (r *Repo) UseLock(l *Lock) {
	r.lockMu.Lock()
	r.lock = l
	r.lockMu.Unlock()
}

// checkLock returns an error if the lock given to UseLock was lost.
func (r *Repo) checkLock() error {
	r.lockMu.Lock()
	l := r.lock
	r.lockMu.Unlock()
	if l == nil || l.lost == nil {
		return nil
	}
	select {
	case <-l.lost:
		return fmt.Errorf("%s: %w: this process's lock was lost (removed as stale or not refreshed); nothing more is written", r.be.Location(), ErrLocked)
	default:
		return nil
	}
}

// Backend returns the storage the repository lives on.
func (r *Repo) Backend() backend.Backend { return r.be }

// Config returns the repository's settings.
func (r *Repo) Config() Config { return r.cfg }

// Key returns the repository's key, for computing blob IDs.
func (r *Repo) Key() *crypto.Key { return r.key }

// BlobID returns the ID a blob with this plaintext has in this repository.
func (r *Repo) BlobID(data []byte) id.ID { return r.key.BlobID(data) }

// Logger returns the logger given in Options (never nil).
func (r *Repo) Logger() *slog.Logger { return r.opts.Logger }

// SetCompression changes the compression used for blobs saved from now on.
func (r *Repo) SetCompression(s compress.Spec) {
	r.w.mu.Lock()
	r.w.compression = s
	r.w.mu.Unlock()
}

// Init creates a new repository on be, which must be empty (for the local
// backend, local.Create ensures this). It writes the key file first and the
// config last, so a crash during Init never leaves something that looks
// like a repository. The repository is returned open.
func Init(ctx context.Context, be backend.Backend, o InitOptions) (*Repo, error) {
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); err == nil {
		return nil, fmt.Errorf("init %s: %w", be.Location(), ErrAlreadyExists)
	} else if !errors.Is(err, backend.ErrNotExist) {
		return nil, fmt.Errorf("init %s: %w", be.Location(), err)
	}
	o.setDefaults()
	o.Passphrase = memoPassphrase(o.Passphrase)
	if o.Encryption == "" {
		o.Encryption = format.EncRepokey
	}
	if o.Suite == "" {
		o.Suite = crypto.AES256GCM
	}
	if o.Encryption == format.EncNone {
		o.Suite = crypto.None
	} else if o.Suite == crypto.None {
		return nil, fmt.Errorf("init: encryption %q needs a real cipher, not %q", o.Encryption, o.Suite)
	}
	switch o.Encryption {
	case format.EncRepokey, format.EncNone:
	case format.EncKeyfile:
		if o.KeysDir == "" {
			return nil, fmt.Errorf("init: encryption keyfile needs a keys directory")
		}
	default:
		return nil, fmt.Errorf("init: unknown encryption mode %q (want repokey, keyfile or none)", o.Encryption)
	}
	comp, err := bodyDefaults(&o.Chunker, &o.PackSize, &o.Compression)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	if o.KDF == (crypto.KDFParams{}) {
		o.KDF = crypto.DefaultKDF
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return nil, fmt.Errorf("init: chunker polynomial: %w", err)
	}
	var repoID id.ID
	if _, err := rand.Read(repoID[:]); err != nil {
		return nil, err
	}

	mk := crypto.PublicMasterKey()
	if o.Encryption != format.EncNone {
		if mk, err = crypto.NewMasterKey(); err != nil {
			return nil, err
		}
	}
	key, err := crypto.NewKey(mk, o.Suite)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	var keyfilePath string
	if o.Encryption != format.EncNone {
		pass, err := askPassphrase(o.Passphrase)
		if err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
		data, err := crypto.WrapMasterKey(mk, pass, repoID, o.KDF, hostname(o.Hostname), o.Username)
		if err != nil {
			return nil, fmt.Errorf("init: wrap key: %w", err)
		}
		if o.Encryption == format.EncRepokey {
			h := backend.Handle{Type: backend.KeyFile, Name: id.Hash(data).String()}
			if err := be.Save(ctx, h, data); err != nil {
				return nil, fmt.Errorf("init: save key: %w", err)
			}
		} else {
			if keyfilePath, err = writeKeyfile(o.KeysDir, repoID, data); err != nil {
				return nil, fmt.Errorf("init: %w", err)
			}
		}
	}

	sealedBody, err := sealConfigBody(key, repoID, pol, o.Chunker, o.PackSize, comp)
	if err != nil {
		return nil, err
	}
	hdr := &format.ConfigHeader{
		Format:     format.Magic,
		Version:    format.ConfigVersion,
		ID:         repoID,
		Encryption: o.Encryption,
		AEAD:       string(o.Suite),
		Body:       sealedBody,
	}
	cfgBytes, err := format.EncodeConfigHeader(hdr)
	if err != nil {
		return nil, err
	}
	if err := be.Save(ctx, backend.Handle{Type: backend.ConfigFile}, cfgBytes); err != nil {
		if keyfilePath != "" {
			_ = os.Remove(keyfilePath)
		}
		if errors.Is(err, backend.ErrExist) {
			return nil, fmt.Errorf("init %s: %w", be.Location(), ErrAlreadyExists)
		}
		return nil, fmt.Errorf("init: save config: %w", err)
	}
	return Open(ctx, be, o.Options)
}

// memoPassphrase wraps f so that it is called at most once; Init and the
// Open it ends with share the answer.
func memoPassphrase(f func() ([]byte, error)) func() ([]byte, error) {
	if f == nil {
		return nil
	}
	var once sync.Once
	var pass []byte
	var err error
	return func() ([]byte, error) {
		once.Do(func() { pass, err = f() })
		return pass, err
	}
}

// Open opens the repository on be: it reads the config, unlocks the key
// with the passphrase, and brings the local index cache up to date with the
// repository's index files. It does not take a lock; see Lock.
func Open(ctx context.Context, be backend.Backend, o Options) (*Repo, error) {
	o.setDefaults()
	o.Passphrase = memoPassphrase(o.Passphrase)
	hdr, err := readConfigHeader(ctx, be)
	if err != nil {
		return nil, err
	}
	r := &Repo{be: be, opts: o}
	mk, err := r.unlock(ctx, hdr)
	if err != nil {
		return nil, err
	}
	suite, err := crypto.ParseSuite(hdr.AEAD)
	if err != nil {
		return nil, fmt.Errorf("open %s: config: %w", be.Location(), err)
	}
	if r.key, err = crypto.NewKey(mk, suite); err != nil {
		return nil, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	plain, err := r.key.Open(nil, hdr.Body, configAD(hdr.ID))
	if err != nil {
		return nil, fmt.Errorf("open %s: config body does not decrypt with this key (damaged config, or a key of another repository): %w", be.Location(), ErrDamaged)
	}
	body, err := format.DecodeConfigBody(plain)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w: %v", be.Location(), ErrDamaged, err)
	}
	if r.key.BlobID(idKeyCheckInput) != body.IDKeyCheck {
		return nil, fmt.Errorf("open %s: the ID key does not match the repository: %w", be.Location(), ErrDamaged)
	}
	if r.cfg, err = configFrom(hdr, body, suite); err != nil {
		return nil, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	r.w.init(r.cfg.Compression)
	if err := r.openCache(); err != nil {
		return nil, err
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if err := r.syncIndex(ctx); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// bodyDefaults fills in the default chunker sizes, pack size and
// compression of a new config body where they are zero, checks them, and
// returns the parsed compression.
func bodyDefaults(ch *chunker.Params, packSize *uint32, compression *string) (compress.Spec, error) {
	if *compression == "" {
		*compression = compress.Default().String()
	}
	comp, err := compress.ParseSpec(*compression)
	if err != nil {
		return comp, err
	}
	if *ch == (chunker.Params{}) {
		*ch = chunker.DefaultParams()
	}
	if err := ch.Validate(); err != nil {
		return comp, err
	}
	if *packSize == 0 {
		*packSize = DefaultPackSize
	}
	if *packSize < MinPackSize || *packSize > MaxPackSize {
		return comp, fmt.Errorf("pack size %d out of range [%d, %d]", *packSize, MinPackSize, MaxPackSize)
	}
	return comp, nil
}

func configFrom(hdr *format.ConfigHeader, body *format.ConfigBody, suite crypto.Suite) (Config, error) {
	c := Config{
		ID:         hdr.ID,
		Version:    hdr.Version,
		Encryption: hdr.Encryption,
		Suite:      suite,
		Polynomial: chunker.Pol(body.ChunkerPolynomial),
		Chunker:    chunker.Params{Min: body.ChunkerMin, Avg: body.ChunkerAvg, Max: body.ChunkerMax},
		PackSize:   body.PackSize,
		Created:    body.Created,
	}
	if err := c.Chunker.Validate(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if !c.Polynomial.Valid() {
		return c, fmt.Errorf("config: chunker polynomial %s is not irreducible of degree 53", c.Polynomial)
	}
	if c.PackSize < MinPackSize || c.PackSize > MaxPackSize {
		return c, fmt.Errorf("config: pack size %d out of range", c.PackSize)
	}
	comp, err := compress.ParseSpec(body.Compression)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	c.Compression = comp
	return c, nil
}

func readConfigHeader(ctx context.Context, be backend.Backend) (*format.ConfigHeader, error) {
	return readConfigHeaderWith(ctx, be, format.DecodeConfigHeader)
}

// readConfigHeaderWith reads the config file and decodes it with decode.
func readConfigHeaderWith(ctx context.Context, be backend.Backend, decode func([]byte) (*format.ConfigHeader, error)) (*format.ConfigHeader, error) {
	data, err := backend.ReadAll(ctx, be, backend.Handle{Type: backend.ConfigFile})
	if errors.Is(err, backend.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (no config file)", be.Location(), ErrNotRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read config: %w", be.Location(), err)
	}
	hdr, err := decode(data)
	switch {
	case errors.Is(err, format.ErrVersion), errors.Is(err, format.ErrNotGobak):
		return nil, fmt.Errorf("%s: %w", be.Location(), err)
	case err != nil:
		return nil, fmt.Errorf("%s: config: %w: %v", be.Location(), ErrDamaged, err)
	}
	return hdr, nil
}

func (r *Repo) openCache() error {
	dir := r.opts.CacheDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gobak-cache-")
		if err != nil {
			return fmt.Errorf("cache: %w", err)
		}
		r.cacheTempDir, dir = tmp, tmp
	}
	path := filepath.Join(dir, r.cfg.ID.String(), "index.db")
	c, err := index.OpenWithTimeout(path, r.cfg.ID, 2*time.Second)
	if errors.Is(err, index.ErrCorrupt) {
		r.opts.Logger.Warn("index cache is damaged; rebuilding it", "path", path, "err", err)
		if rmErr := os.Remove(path); rmErr != nil {
			return fmt.Errorf("remove damaged cache: %w", rmErr)
		}
		c, err = index.Open(path, r.cfg.ID)
	}
	if errors.Is(err, index.ErrInUse) && r.cacheTempDir == "" {
		// Another gobak process (a backup running while we check, say)
		// holds the cache. The repository is the truth, so a private
		// temporary cache is correct, only slower to fill.
		r.opts.Logger.Warn("index cache is in use by another gobak process; using a temporary cache", "path", path)
		tmp, terr := os.MkdirTemp("", "gobak-cache-")
		if terr != nil {
			return fmt.Errorf("cache: %w", terr)
		}
		r.cacheTempDir = tmp
		c, err = index.Open(filepath.Join(tmp, "index.db"), r.cfg.ID)
	}
	if err != nil {
		if r.cacheTempDir != "" {
			_ = os.RemoveAll(r.cacheTempDir)
			r.cacheTempDir = ""
		}
		return fmt.Errorf("open cache: %w", err)
	}
	r.cache = c
	return nil
}

// KeyLocation says where the key that opened the repository is stored:
// a path relative to the repository ("keys/<id>") for repokey, a file path
// for keyfile, and "" for encryption none.
func (r *Repo) KeyLocation() string {
	r.keyMu.Lock()
	defer r.keyMu.Unlock()
	if r.keyPath != "" {
		return r.keyPath
	}
	if r.keyHandle.Name != "" {
		return r.keyHandle.String()
	}
	return ""
}

// Close stops background uploads and releases the cache. Blobs saved since
// the last Flush are discarded (never half-written): call Flush first to
// keep them. Close is idempotent.
func (r *Repo) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
		r.w.stop()
		if r.cache != nil {
			err = r.cache.Close()
		}
		if r.cacheTempDir != "" {
			_ = os.RemoveAll(r.cacheTempDir)
		}
	})
	return err
}

func hostname(h string) string {
	if h != "" {
		return h
	}
	h, _ = os.Hostname()
	return h
}

func askPassphrase(f func() ([]byte, error)) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: a passphrase is needed but none was given", ErrWrongPassphrase)
	}
	return f()
}
