package repo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobak/gobak/pkg/backend/local"
	"github.com/gobak/gobak/pkg/id"
)

// The config header is not authenticated. When its "aead" field is
// damaged into another valid suite name, the body no longer opens and
// Open reports ErrDamaged; RepairConfig then takes the intact body for
// damaged and overwrites it (losing the chunker polynomial) sealed with
// the wrong suite. Worse, the repository then opens "fine", nothing in it
// authenticates, and RebuildIndex + Salvage (what check --repair runs
// next) delete every pack as an unindexable orphan.
func TestReviewRepairConfigWrongSuiteInHeader(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, nil)
	want := []byte("precious data")
	bid, _, err := r.SaveBlob(ctx, id.DataBlob, want)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	suite := string(r.Config().Suite)
	other := "chacha20-poly1305"
	if suite == other {
		other = "aes-256-gcm"
	}
	r.Close()
	cfgPath := filepath.Join(dir, "config")
	orig, _ := os.ReadFile(cfgPath)
	editFile(t, cfgPath, func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"aead": "`+suite+`"`), []byte(`"aead": "`+other+`"`), 1)
	})
	if now, _ := os.ReadFile(cfgPath); bytes.Equal(now, orig) {
		t.Fatalf("could not edit the header: %s", orig)
	}
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	done, err := RepairConfig(ctx, be, ConfigRepairOptions{Options: o})
	if err != nil || !done.SuiteFixed || done.BodyRebuilt {
		t.Fatalf("RepairConfig: %+v, %v; want only the header's cipher fixed", done, err)
	}
	if now, _ := os.ReadFile(cfgPath); !bytes.Equal(now, orig) {
		t.Errorf("config after repair:\n%s\nwant the original:\n%s", now, orig)
	}
	o.CacheDir = t.TempDir()
	r2 := reopen(t, dir, o)
	mustLoad(t, r2, bid, want)
}

// A header damaged into encryption "none" must not make the real key's
// data look damaged: RepairConfig refuses.
func TestReviewRepairConfigHeaderSaysNone(t *testing.T) {
	ctx := context.Background()
	r, dir, o := newLocalRepo(t, nil)
	r.Close()
	cfgPath := filepath.Join(dir, "config")
	editFile(t, cfgPath, func(b []byte) []byte {
		b = bytes.Replace(b, []byte(`"encryption": "repokey"`), []byte(`"encryption": "none"`), 1)
		return bytes.Replace(b, []byte(`"aead": "aes-256-gcm"`), []byte(`"aead": "none"`), 1)
	})
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfgPath)
	if !bytes.Contains(before, []byte(`"encryption": "none"`)) {
		t.Fatalf("could not edit the header: %s", before)
	}
	if _, err := RepairConfig(ctx, be, ConfigRepairOptions{Options: o}); !errors.Is(err, ErrDamaged) {
		t.Errorf("RepairConfig of a header damaged into none: %v", err)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(after, before) {
		t.Errorf("RepairConfig changed the config")
	}
}
