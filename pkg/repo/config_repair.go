package repo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gobak/gobak/pkg/backend"
	"github.com/gobak/gobak/pkg/chunker"
	"github.com/gobak/gobak/pkg/compress"
	"github.com/gobak/gobak/pkg/crypto"
	"github.com/gobak/gobak/pkg/id"
	"github.com/gobak/gobak/pkg/repo/internal/format"
)

// ErrConfigIntact is returned by RepairConfig when the config file is not
// damaged, so there is nothing to repair.
var ErrConfigIntact = errors.New("config is not damaged")

// ConfigRepairOptions control RepairConfig.
type ConfigRepairOptions struct {
	Options
	// Chunker, PackSize and Compression go into the new config body;
	// zero values mean the defaults of Init. The chunker polynomial of
	// the damaged config cannot be recovered: a new one is drawn.
	Chunker     chunker.Params
	PackSize    uint32
	Compression string
}

// replacer is implemented by backends that can atomically replace a file
// (the local and memory backends).
type replacer interface {
	Replace(ctx context.Context, h backend.Handle, data []byte) error
}

// ConfigRepair says what RepairConfig changed.
type ConfigRepair struct {
	// SuiteFixed is set when the body was intact but the header named
	// the wrong cipher; the header now names the one that opens the body.
	SuiteFixed bool
	// BodyRebuilt is set when the body was damaged and was rebuilt (with
	// a new chunker polynomial).
	BodyRebuilt bool
}

// RepairConfig repairs the config file of the repository on be when its
// header is readable but the body does not open (Open fails with
// ErrDamaged). The key must unlock: it is bound to the repository ID in the
// header, so a key that unlocks proves the header's ID is intact.
//
// If the body opens with another cipher than the header names (the header
// is not authenticated, the body is), only the header's cipher is
// corrected. Otherwise the body is damaged and is rebuilt: it keeps the
// repository ID, encryption and cipher, and gets the given chunker sizes,
// pack size and compression and a new random chunker polynomial (the old
// one is lost with the body). Existing archives are unaffected; the next
// backup stores most file data again, because chunk boundaries move with
// the polynomial.
//
// It returns ErrConfigIntact if the config opens and validates, an error
// wrapping ErrDamaged if the header itself is unreadable or names an
// unknown cipher (restore the config file from a copy), and the errors of
// Open for a missing or wrong key. The caller must hold an exclusive lock.
// On the local backend the file is replaced atomically; on others it is
// removed and saved again.
func RepairConfig(ctx context.Context, be backend.Backend, o ConfigRepairOptions) (ConfigRepair, error) {
	var done ConfigRepair
	o.setDefaults()
	o.Passphrase = memoPassphrase(o.Passphrase)
	hdr, err := readConfigHeaderWith(ctx, be, format.DecodeConfigHeaderLenient)
	if err != nil {
		return done, fmt.Errorf("repair config: %w (the header cannot be rebuilt: restore the config file from a copy)", err)
	}
	if hdr.Encryption == format.EncNone {
		// A header damaged into "none" would make the public key look
		// right and every real blob look damaged.
		n := 0
		err := be.List(ctx, backend.KeyFile, func(backend.FileInfo) error { n++; return nil })
		if err != nil {
			return done, fmt.Errorf("repair config: %w", err)
		}
		if n > 0 {
			return done, fmt.Errorf("repair config: %w: the header says encryption none, but the repository has %d key files (restore the config file from a copy)", ErrDamaged, n)
		}
	}
	r := &Repo{be: be, opts: o.Options}
	mk, err := r.unlock(ctx, hdr)
	if err != nil {
		return done, err
	}
	suite, err := crypto.ParseSuite(hdr.AEAD)
	if err != nil {
		return done, fmt.Errorf("repair config: %w: %v (restore the config file from a copy)", ErrDamaged, err)
	}
	for i, s := range []crypto.Suite{suite, crypto.AES256GCM, crypto.ChaCha20Poly1305, crypto.None} {
		if i > 0 && s == suite {
			continue
		}
		key, err := crypto.NewKey(mk, s)
		if err != nil {
			continue
		}
		plain, err := key.Open(nil, hdr.Body, configAD(hdr.ID))
		if err != nil {
			continue
		}
		body, err := format.DecodeConfigBody(plain)
		if err != nil || key.BlobID(idKeyCheckInput) != body.IDKeyCheck {
			continue
		}
		if _, err := configFrom(hdr, body, s); err != nil {
			continue
		}
		if s == suite {
			return done, ErrConfigIntact
		}
		hdr.AEAD = string(s)
		done.SuiteFixed = true
		return done, writeConfig(ctx, be, hdr)
	}
	key, err := crypto.NewKey(mk, suite)
	if err != nil {
		return done, fmt.Errorf("repair config: %w", err)
	}
	comp, err := bodyDefaults(&o.Chunker, &o.PackSize, &o.Compression)
	if err != nil {
		return done, fmt.Errorf("repair config: %w", err)
	}
	r.key = key
	if ok, err := r.keyAuthenticates(ctx); err != nil {
		return done, fmt.Errorf("repair config: %w", err)
	} else if !ok {
		return done, fmt.Errorf("repair config: %w: no index file and no pack trailer authenticates with this key and cipher %s: "+
			"refusing to rebuild the config body (restore the config file from a copy)", ErrDamaged, suite)
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return done, fmt.Errorf("repair config: chunker polynomial: %w", err)
	}
	if hdr.Body, err = sealConfigBody(key, hdr.ID, pol, o.Chunker, o.PackSize, comp); err != nil {
		return done, fmt.Errorf("repair config: %w", err)
	}
	done.BodyRebuilt = true
	return done, writeConfig(ctx, be, hdr)
}

// authProbes is how many index files, then packs, keyAuthenticates tries.
const authProbes = 8

// keyAuthenticates reports whether r.key opens an index file or a pack
// trailer of the repository, or the repository holds neither (then there
// is nothing to get wrong).
func (r *Repo) keyAuthenticates(ctx context.Context) (bool, error) {
	found := false
	for _, t := range []backend.FileType{backend.IndexFile, backend.PackFile} {
		ids, err := r.listIDs(ctx, t)
		if err != nil {
			return false, err
		}
		for i, f := range ids.Sorted() {
			if i == authProbes {
				break
			}
			found = true
			if t == backend.IndexFile {
				_, err = r.LoadIndexFile(ctx, f)
			} else {
				_, _, err = r.PackBlobs(ctx, f)
			}
			if err == nil {
				return true, nil
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
		}
	}
	return !found, nil
}

// writeConfig replaces the config file with hdr.
func writeConfig(ctx context.Context, be backend.Backend, hdr *format.ConfigHeader) error {
	data, err := format.EncodeConfigHeader(hdr)
	if err != nil {
		return fmt.Errorf("repair config: %w", err)
	}
	h := backend.Handle{Type: backend.ConfigFile}
	if rp, ok := be.(replacer); ok {
		if err := rp.Replace(ctx, h, data); err != nil {
			return fmt.Errorf("repair config: %w", err)
		}
		return nil
	}
	if err := be.Remove(ctx, h); err != nil && !errors.Is(err, backend.ErrNotExist) {
		return fmt.Errorf("repair config: %w", err)
	}
	if err := be.Save(ctx, h, data); err != nil {
		return fmt.Errorf("repair config: %w (the repository has no config file now: restore it from a copy)", err)
	}
	return nil
}

// sealConfigBody returns the sealed config body of repository repoID.
func sealConfigBody(key *crypto.Key, repoID id.ID, pol chunker.Pol, ch chunker.Params, packSize uint32, comp compress.Spec) ([]byte, error) {
	plain, err := format.EncodeConfigBody(&format.ConfigBody{
		ChunkerPolynomial: uint64(pol),
		ChunkerMin:        ch.Min,
		ChunkerAvg:        ch.Avg,
		ChunkerMax:        ch.Max,
		PackSize:          packSize,
		Compression:       comp.String(),
		IDKeyCheck:        key.BlobID(idKeyCheckInput),
		Created:           time.Now().UTC().Truncate(time.Second),
	})
	if err != nil {
		return nil, err
	}
	return key.Seal(nil, plain, configAD(repoID)), nil
}
