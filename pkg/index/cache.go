package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gobak/gobak/pkg/id"
)

// SchemaVersion is the layout version of the cache file. A file with another
// version is reset on Open.
const SchemaVersion = 2

// DefaultOpenTimeout is how long Open waits for another process to release
// the cache file before giving up with ErrInUse.
const DefaultOpenTimeout = 5 * time.Second

var (
	// ErrCorrupt is returned (wrapped) when the cache file cannot be opened
	// as a database or holds a value that does not decode. The caller
	// deletes the file and rebuilds the cache from the repository.
	ErrCorrupt = errors.New("index cache is corrupt")
	// ErrInUse is returned (wrapped) by Open when another process holds the
	// cache file open for longer than the open timeout.
	ErrInUse = errors.New("in use by another gobak process")
	// ErrInvalidEntry is returned (wrapped) by AddPack and AddIndexFile for
	// an entry that cannot be stored, such as one with an unknown blob type.
	ErrInvalidEntry = errors.New("invalid index entry")
)

// Bucket and key names.
var (
	bucketMeta   = []byte("meta")
	bucketBlobs  = []byte("blobs")
	bucketPacks  = []byte("packs")
	bucketMerged = []byte("merged")
	bucketTrees  = []byte("trees")

	keySchema   = []byte("schema")
	keyRepo     = []byte("repo")
	keyCounters = []byte("counters")

	// dataBuckets are emptied by Reset; meta is kept.
	dataBuckets = [][]byte{bucketBlobs, bucketPacks, bucketMerged, bucketTrees}
)

// Location says where a blob is stored.
type Location struct {
	// Pack is the ID of the pack file holding the blob.
	Pack id.ID
	// Type is the blob's type (data or tree).
	Type id.BlobType
	// Offset is the byte offset of the sealed blob in the pack.
	Offset uint32
	// Length is the sealed length of the blob in the pack.
	Length uint32
	// RawLength is the plaintext length before compression.
	RawLength uint32
}

// Entry is one blob and its location.
type Entry struct {
	// ID is the blob ID.
	ID id.ID
	Location
}

// Stats summarises the cache. Each blob ID is counted once, with the size
// of its first recorded location.
type Stats struct {
	// Packs is the number of packs added.
	Packs int
	// Blobs is the number of distinct blob IDs.
	Blobs int
	// StoredBytes is the sum of the sealed lengths of the distinct blobs.
	StoredBytes uint64
	// RawBytes is the sum of the plaintext lengths of the distinct blobs.
	RawBytes uint64
	// DataBlobs and TreeBlobs count the distinct blobs by type.
	DataBlobs, TreeBlobs int
	// DataStored and DataRaw are StoredBytes and RawBytes of data blobs
	// alone (file content, without trees).
	DataStored, DataRaw uint64
}

// Cache is a bbolt-backed index cache. It is safe for concurrent use by many
// readers; writes are serialized by bbolt (the repository uses one writer
// goroutine). Methods called after Close return an error.
type Cache struct {
	db   *bbolt.DB
	path string
}

// Open opens the cache file at path for the repository repo, creating the
// file (mode 0o600) and its parent directories (mode 0o700) if missing.
//
// If the file was written by another schema version or for another
// repository, or its metadata is missing, the cache is reset (every bucket
// emptied) rather than failing. If another process holds the file for longer
// than DefaultOpenTimeout, Open returns an error wrapping ErrInUse. A file
// that is not a bbolt database gives an error wrapping ErrCorrupt.
func Open(path string, repo id.ID) (*Cache, error) {
	return OpenWithTimeout(path, repo, DefaultOpenTimeout)
}

// OpenWithTimeout is Open with a caller-chosen wait for the file lock.
// A timeout <= 0 means DefaultOpenTimeout (never wait forever).
func OpenWithTimeout(path string, repo id.ID, timeout time.Duration) (c *Cache, err error) {
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open index cache %s: %w", path, err)
	}
	opts := &bbolt.Options{
		Timeout: timeout,
		// The freelist is rebuilt on open instead of written on every
		// commit; with the hashmap freelist this keeps large commits cheap.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// Statistics cost a lock per read transaction on the hot path.
		NoStatistics: true,
		// Reserve address space up front so that growing the file rarely
		// has to remap (which waits for all readers).
		InitialMmapSize: 64 << 20,
	}
	db, err := openBolt(path, opts)
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("index cache %s is %w", path, ErrInUse)
		case isCorruptOpenError(err):
			return nil, fmt.Errorf("open index cache %s: %w: %w", path, ErrCorrupt, err)
		default:
			return nil, fmt.Errorf("open index cache %s: %w", path, err)
		}
	}
	c = &Cache{db: db, path: path}
	if err := c.update("open", func(tx *bbolt.Tx) error { return prepare(tx, repo) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open index cache %s: %w", path, err)
	}
	return c, nil
}

// openBolt calls bbolt.Open, turning a panic on a damaged file into an
// error wrapping ErrCorrupt.
func openBolt(path string, opts *bbolt.Options) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt: %v", ErrCorrupt, r)
		}
	}()
	return bbolt.Open(path, 0o600, opts)
}

// isCorruptOpenError reports whether err from bbolt.Open means the file is
// not a usable database (as opposed to, say, a permission problem).
func isCorruptOpenError(err error) bool {
	return errors.Is(err, berrors.ErrInvalid) ||
		errors.Is(err, berrors.ErrChecksum) ||
		errors.Is(err, berrors.ErrVersionMismatch) ||
		// bbolt has no sentinel for a file shorter than its two meta pages.
		strings.Contains(err.Error(), "file size too small")
}

// prepare checks the meta bucket and resets the cache when the schema
// version, the repository ID, the counters or a bucket is missing or
// different.
func prepare(tx *bbolt.Tx, repo id.ID) error {
	if metaValid(tx, repo) {
		return nil
	}
	if err := resetTx(tx); err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	schema := make([]byte, schemaSize)
	binary.LittleEndian.PutUint32(schema, SchemaVersion)
	if err := meta.Put(keySchema, schema); err != nil {
		return err
	}
	return meta.Put(keyRepo, bytes.Clone(repo[:]))
}

func metaValid(tx *bbolt.Tx, repo id.ID) bool {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return false
	}
	schema := meta.Get(keySchema)
	if len(schema) != schemaSize || binary.LittleEndian.Uint32(schema) != SchemaVersion {
		return false
	}
	if !bytes.Equal(meta.Get(keyRepo), repo[:]) {
		return false
	}
	if _, err := decodeCounters(meta.Get(keyCounters)); err != nil {
		return false
	}
	for _, name := range dataBuckets {
		if tx.Bucket(name) == nil {
			return false
		}
	}
	return true
}

// resetTx deletes every top-level bucket except meta, recreates the data
// buckets empty and zeroes the counters.
func resetTx(tx *bbolt.Tx) error {
	var names [][]byte
	if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		if !bytes.Equal(name, bucketMeta) {
			names = append(names, bytes.Clone(name))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("delete bucket %s: %w", name, err)
		}
	}
	for _, name := range dataBuckets {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	return meta.Put(keyCounters, counters{}.encode())
}

// Close releases the file. It waits for running transactions to finish.
func (c *Cache) Close() error {
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("close index cache %s: %w", c.path, err)
	}
	return nil
}

// Path returns the file name the cache was opened with.
func (c *Cache) Path() string { return c.path }

// Reset empties the blobs, packs, merged index files and cached trees in one
// transaction, keeping the schema version and repository ID. The repository
// uses it when an index file it had merged has disappeared and the cache
// must be rebuilt from scratch.
func (c *Cache) Reset() error {
	return c.update("reset", resetTx)
}

// view runs fn in a read-only transaction. A bbolt panic (a damaged file)
// becomes an error wrapping ErrCorrupt; panics raised by caller callbacks
// (see callUser) propagate unchanged.
func (c *Cache) view(op string, fn func(tx *bbolt.Tx) error) (err error) {
	defer c.recoverCorrupt(op, &err)
	if err := c.db.View(fn); err != nil {
		return fmt.Errorf("index cache %s: %s: %w", c.path, op, err)
	}
	return nil
}

// update runs fn in a read-write transaction, with view's panic handling.
func (c *Cache) update(op string, fn func(tx *bbolt.Tx) error) (err error) {
	defer c.recoverCorrupt(op, &err)
	if err := c.db.Update(fn); err != nil {
		return fmt.Errorf("index cache %s: %s: %w", c.path, op, err)
	}
	return nil
}

// userPanic carries a panic raised by a caller's callback through
// recoverCorrupt, which re-raises it with the original value.
type userPanic struct{ v any }

// callUser calls a caller-supplied callback, marking any panic it raises so
// that it is not mistaken for a corrupt file.
func callUser[T any](fn func(T) error, arg T) (err error) {
	defer func() {
		if r := recover(); r != nil {
			panic(userPanic{r})
		}
	}()
	return fn(arg)
}

func (c *Cache) recoverCorrupt(op string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if up, ok := r.(userPanic); ok {
		panic(up.v)
	}
	*err = fmt.Errorf("index cache %s: %s: %w: bbolt: %v", c.path, op, ErrCorrupt, r)
}

// bucket returns the named bucket or an error wrapping ErrCorrupt if it is
// missing (Open creates all of them).
func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("bucket %s missing: %w", name, ErrCorrupt)
	}
	return b, nil
}
