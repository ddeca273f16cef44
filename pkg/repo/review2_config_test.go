package repo

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/id"
)

// The "header damaged into none" refusal counts key files in keys/ of the
// repository only. A "keyfile" repository keeps its key outside (KeysDir),
// so for it the refusal does not fire: RepairConfig replaces the intact,
// authentic body (losing the chunker polynomial) with one sealed by the
// public key, and the repository then opens as an unencrypted one: the
// next backup stores plaintext in a repository the user set up encrypted.
func TestReview2RepairConfigKeyfileHeaderSaysNone(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, func(o *InitOptions) { o.Encryption = "keyfile" })
	rng := rand.New(rand.NewPCG(1, 2))
	if _, _, err := r.SaveBlob(ctx, id.DataBlob, randomBlob(rng, 10<<10)); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.Close()
	cfgPath := filepath.Join(dir, "config")
	editFile(t, cfgPath, func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"encryption": "keyfile"`), []byte(`"encryption": "none"`), 1)
	})
	before, _ := os.ReadFile(cfgPath)
	if !bytes.Contains(before, []byte(`"encryption": "none"`)) {
		t.Fatalf("could not edit the header: %s", before)
	}
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, be, o); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of the damaged config: %v", err)
	}
	done, err := RepairConfig(ctx, be, ConfigRepairOptions{Options: o})
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("RepairConfig of a keyfile repository whose header says none: %+v, %v; want a refusal", done, err)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(after, before) {
		t.Errorf("RepairConfig rewrote the config (the sealed body was intact)")
		if r2, err := Open(ctx, be, o); err == nil {
			t.Errorf("the repository now opens with encryption %q: new backups are stored unencrypted", r2.Config().Encryption)
			r2.Close()
		}
	}
}
