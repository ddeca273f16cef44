package check

import (
	"context"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/gobak/gobak/pkg/archive"
	"github.com/gobak/gobak/pkg/id"
)

// An archive record that authenticates (AEAD tag and name hash are fine)
// but was written in a newer record format (version 2, by a newer gobak)
// is not damaged: it is good data this version cannot read. Repair
// deletes it because DecodeRecord reports the version as ErrMalformed.
func TestReviewRepairKeepsAuthenticRecordOfNewerVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.open()
	list, _, err := archive.ListArchives(ctx, r)
	if err != nil || len(list) != 2 {
		t.Fatal(len(list), err)
	}
	data, err := r.LoadArchive(ctx, list[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := cbor.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = archive.RecordVersion + 1
	m["name"] = "from-gobak-v2"
	newer, err := cbor.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	nid, err := r.SaveArchive(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Repair(ctx, r, RepairOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := r.ListArchives(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ids.Has(nid) {
		t.Errorf("repair deleted the authentic archive record %s written by a newer version (deleted: %v)", nid.Short(), shortIDs(res.RecordsDeleted))
	}
}

func shortIDs(l []id.ID) []string {
	var out []string
	for _, v := range l {
		out = append(out, v.Short())
	}
	return out
}
