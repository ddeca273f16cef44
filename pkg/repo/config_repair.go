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

// RepairConfig rewrites the config file of the repository on be when its
// header is readable but its sealed body is damaged (Open fails with
// ErrDamaged). The key must unlock: it is bound to the repository ID in the
// header, so a key that unlocks proves the header's ID is intact. The new
// body keeps the repository ID, encryption and cipher, and gets the given
// chunker sizes, pack size and compression and a new random chunker
// polynomial (the old one is lost with the body). Existing archives are
// unaffected; the next backup stores most file data again, because chunk
// boundaries move with the polynomial.
//
// It returns ErrConfigIntact if the body opens and validates, an error
// wrapping ErrDamaged if the header itself is damaged (the repository ID or
// cipher is unknown: restore the config file from a copy), and the errors
// of Open for a missing or wrong key. The caller must hold an exclusive
// lock. On the local backend the file is replaced atomically; on others it
// is removed and saved again.
func RepairConfig(ctx context.Context, be backend.Backend, o ConfigRepairOptions) error {
	o.setDefaults()
	o.Passphrase = memoPassphrase(o.Passphrase)
	hdr, err := readConfigHeader(ctx, be)
	if err != nil {
		return fmt.Errorf("repair config: %w (the header cannot be rebuilt: restore the config file from a copy)", err)
	}
	r := &Repo{be: be, opts: o.Options}
	mk, err := r.unlock(ctx, hdr)
	if err != nil {
		return err
	}
	suite, err := crypto.ParseSuite(hdr.AEAD)
	if err != nil {
		return fmt.Errorf("repair config: %w: %v", ErrDamaged, err)
	}
	key, err := crypto.NewKey(mk, suite)
	if err != nil {
		return fmt.Errorf("repair config: %w", err)
	}
	if plain, err := key.Open(nil, hdr.Body, configAD(hdr.ID)); err == nil {
		body, err := format.DecodeConfigBody(plain)
		if err == nil && key.BlobID(idKeyCheckInput) == body.IDKeyCheck {
			if _, err := configFrom(hdr, body, suite); err == nil {
				return ErrConfigIntact
			}
		}
	}
	if o.Compression == "" {
		o.Compression = compress.Default().String()
	}
	comp, err := compress.ParseSpec(o.Compression)
	if err != nil {
		return fmt.Errorf("repair config: %w", err)
	}
	if o.Chunker == (chunker.Params{}) {
		o.Chunker = chunker.DefaultParams()
	}
	if err := o.Chunker.Validate(); err != nil {
		return fmt.Errorf("repair config: %w", err)
	}
	if o.PackSize == 0 {
		o.PackSize = DefaultPackSize
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return fmt.Errorf("repair config: chunker polynomial: %w", err)
	}
	if hdr.Body, err = sealConfigBody(key, hdr.ID, pol, o.Chunker, o.PackSize, comp); err != nil {
		return fmt.Errorf("repair config: %w", err)
	}
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
		return fmt.Errorf("repair config: %w (the repository has no config file now: run the repair again)", err)
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
