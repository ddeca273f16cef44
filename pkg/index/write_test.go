package index

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

func TestAddPackIdempotent(t *testing.T) {
	c := openTest(t)
	pack := testID("pack", 1)
	entries := testEntries(0, 16)
	for range 3 {
		mustAddPack(t, c, pack, entries)
	}
	// Re-adding with different entries is still a no-op: packs are immutable.
	mustAddPack(t, c, pack, testEntries(100, 4))
	if got, want := mustStats(t, c), statsOf([][]Entry{entries}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if ok, err := c.Has(testID("blob", 100)); err != nil || ok {
		t.Errorf("blob from the ignored re-add: %v, %v", ok, err)
	}
	if ok, err := c.HasPack(pack); err != nil || !ok {
		t.Errorf("HasPack = %v, %v", ok, err)
	}
	if ok, err := c.HasPack(testID("pack", 2)); err != nil || ok {
		t.Errorf("HasPack of unknown pack = %v, %v", ok, err)
	}
}

func TestDuplicateBlobKeepsFirstLocation(t *testing.T) {
	c := openTest(t)
	p1, p2 := testID("pack", 1), testID("pack", 2)
	first := testEntries(0, 4)
	second := testEntries(2, 4) // blobs 2 and 3 are in both packs
	second[0].Offset, second[1].Offset = 9000, 9100
	mustAddPack(t, c, p1, first)
	mustAddPack(t, c, p2, second)

	for _, e := range first {
		want := e.Location
		want.Pack = p1
		wantLocation(t, c, e.ID, want)
	}
	want := second[2].Location
	want.Pack = p2
	wantLocation(t, c, second[2].ID, want)

	st := mustStats(t, c)
	if st.Blobs != 6 || st.Packs != 2 {
		t.Errorf("Stats = %+v, want 6 blobs in 2 packs", st)
	}
	if exp := statsOf([][]Entry{first, second}); st != exp {
		t.Errorf("Stats = %+v, want %+v", st, exp)
	}

	// A blob listed twice in one pack also keeps its first entry.
	dup := testEntries(50, 1)
	again := dup[0]
	again.Offset = 777
	mustAddPack(t, c, testID("pack", 3), []Entry{dup[0], again})
	want = dup[0].Location
	want.Pack = testID("pack", 3)
	wantLocation(t, c, dup[0].ID, want)
	if st := mustStats(t, c); st.Blobs != 7 {
		t.Errorf("Blobs = %d, want 7", st.Blobs)
	}
}

func TestAddIndexFile(t *testing.T) {
	c := openTest(t)
	file := testID("index", 1)
	packs := map[id.ID][]Entry{
		testID("pack", 1): testEntries(0, 8),
		testID("pack", 2): testEntries(8, 8),
		testID("pack", 3): testEntries(4, 8), // overlaps both
	}
	if ok, err := c.IsMerged(file); err != nil || ok {
		t.Fatalf("IsMerged before = %v, %v", ok, err)
	}
	if err := c.AddIndexFile(file, packs); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.IsMerged(file); err != nil || !ok {
		t.Fatalf("IsMerged after = %v, %v", ok, err)
	}
	m, err := c.Merged()
	if err != nil || len(m) != 1 || !m.Has(file) {
		t.Fatalf("Merged = %v, %v", m, err)
	}
	st := mustStats(t, c)
	if st.Packs != 3 || st.Blobs != 16 {
		t.Errorf("Stats = %+v, want 3 packs, 16 blobs", st)
	}
	// Overlapping blobs take the location from the pack with the smaller ID.
	order := []id.ID{testID("pack", 1), testID("pack", 2), testID("pack", 3)}
	slices.SortFunc(order, id.ID.Compare)
	owner := map[id.ID]id.ID{}
	for _, p := range order {
		for _, e := range packs[p] {
			if _, ok := owner[e.ID]; !ok {
				owner[e.ID] = p
			}
		}
	}
	for blob, p := range owner {
		loc, ok, err := c.Lookup(blob)
		if err != nil || !ok || loc.Pack != p {
			t.Errorf("blob %s in pack %s, want %s (%v, %v)", blob.Short(), loc.Pack.Short(), p.Short(), ok, err)
		}
	}

	// Merging again, or a second file naming the same packs, adds nothing.
	if err := c.AddIndexFile(file, packs); err != nil {
		t.Fatal(err)
	}
	file2 := testID("index", 2)
	if err := c.AddIndexFile(file2, packs); err != nil {
		t.Fatal(err)
	}
	if got := mustStats(t, c); got != st {
		t.Errorf("Stats after re-merge = %+v, want %+v", got, st)
	}
	if m, _ := c.Merged(); len(m) != 2 || !m.Has(file2) {
		t.Errorf("Merged = %v, want both files", m)
	}
}

func TestInvalidEntryWritesNothing(t *testing.T) {
	c := openTest(t)
	entries := testEntries(0, 4)
	entries[3].Type = 0
	if err := c.AddPack(testID("pack", 1), entries); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("AddPack with type 0: %v, want ErrInvalidEntry", err)
	}
	err := c.AddIndexFile(testID("index", 1), map[id.ID][]Entry{
		testID("pack", 2): testEntries(10, 2),
		testID("pack", 1): entries,
	})
	if !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("AddIndexFile with type 0: %v, want ErrInvalidEntry", err)
	}
	if st := mustStats(t, c); st != (Stats{}) {
		t.Errorf("Stats = %+v, want nothing written", st)
	}
	if ok, _ := c.IsMerged(testID("index", 1)); ok {
		t.Error("failed file marked merged")
	}
}

func TestReset(t *testing.T) {
	c := openTest(t)
	mustAddPack(t, c, testID("pack", 1), testEntries(0, 8))
	if err := c.AddIndexFile(testID("index", 1), map[id.ID][]Entry{testID("pack", 2): testEntries(8, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutTree(testID("tree", 1), []byte("t")); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if st := mustStats(t, c); st != (Stats{}) {
		t.Errorf("Stats after Reset = %+v", st)
	}
	checks := []struct {
		name string
		fn   func() (bool, error)
	}{
		{"blob", func() (bool, error) { return c.Has(testID("blob", 0)) }},
		{"pack", func() (bool, error) { return c.HasPack(testID("pack", 1)) }},
		{"merged", func() (bool, error) { return c.IsMerged(testID("index", 1)) }},
		{"tree", func() (bool, error) { _, ok, err := c.GetTree(testID("tree", 1)); return ok, err }},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ok, err := ck.fn(); err != nil || ok {
				t.Errorf("still present after Reset: %v, %v", ok, err)
			}
		})
	}
	// The cache is usable afterwards, and the meta survived a reopen.
	mustAddPack(t, c, testID("pack", 1), testEntries(0, 2))
	if st := mustStats(t, c); st.Blobs != 2 || st.Packs != 1 {
		t.Errorf("Stats after re-add = %+v", st)
	}
}

func TestStatsAfterManyAdds(t *testing.T) {
	c := openTest(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var added [][]Entry
	for p := range 300 {
		// Blob numbers overlap between packs so duplicates are common.
		entries := testEntries(rng.IntN(3000), 1+rng.IntN(20))
		pack := testID("pack", p)
		if p%10 == 0 {
			if err := c.AddIndexFile(testID("index", p), map[id.ID][]Entry{pack: entries}); err != nil {
				t.Fatal(err)
			}
		} else {
			mustAddPack(t, c, pack, entries)
		}
		added = append(added, entries)
	}
	want := statsOf(added)
	if got := mustStats(t, c); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}

	// ForEachBlob and ForEachPack agree with the counters.
	var got Stats
	var prev id.ID
	err := c.ForEachBlob(func(e Entry) error {
		if got.Blobs > 0 && e.ID.Compare(prev) <= 0 {
			t.Errorf("ForEachBlob out of order at %s", e.ID.Short())
		}
		prev = e.ID
		got.Blobs++
		got.StoredBytes += uint64(e.Length)
		got.RawBytes += uint64(e.RawLength)
		if e.Type == id.DataBlob {
			got.DataBlobs++
			got.DataStored += uint64(e.Length)
			got.DataRaw += uint64(e.RawLength)
		} else {
			got.TreeBlobs++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var packBlobs int
	err = c.ForEachPack(func(pack id.ID, blobs int, stored uint64) error {
		got.Packs++
		packBlobs += blobs
		if stored == 0 {
			t.Errorf("pack %s has no stored bytes", pack.Short())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("iterated Stats = %+v, want %+v", got, want)
	}
	var listed int
	for _, e := range added {
		listed += len(e)
	}
	if packBlobs != listed {
		t.Errorf("ForEachPack blobs sum = %d, want %d", packBlobs, listed)
	}
}

func TestForEachStopsOnError(t *testing.T) {
	c := openTest(t)
	mustAddPack(t, c, testID("pack", 1), testEntries(0, 10))
	mustAddPack(t, c, testID("pack", 2), testEntries(10, 10))
	stop := errors.New("stop")
	n := 0
	if err := c.ForEachBlob(func(Entry) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEachBlob: err %v after %d calls", err, n)
	}
	n = 0
	if err := c.ForEachPack(func(id.ID, int, uint64) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEachPack: err %v after %d calls", err, n)
	}
}

func TestCallbackPanicPropagates(t *testing.T) {
	c := openTest(t)
	mustAddPack(t, c, testID("pack", 1), testEntries(0, 1))
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want the callback's panic", r)
		}
	}()
	_ = c.ForEachBlob(func(Entry) error { panic("boom") })
	t.Error("ForEachBlob swallowed the callback's panic")
}

func TestBatchLookups(t *testing.T) {
	c := openTest(t)
	pack := testID("pack", 1)
	entries := testEntries(0, 10)
	mustAddPack(t, c, pack, entries)
	blobs := []id.ID{testID("blob", 3), testID("blob", 50), testID("blob", 9), {}}
	want := []bool{true, false, true, false}

	found := make([]bool, len(blobs))
	if err := c.HasMany(blobs, found); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found, want) {
		t.Errorf("HasMany = %v, want %v", found, want)
	}
	locs := make([]Location, len(blobs))
	found = make([]bool, len(blobs))
	locs[1].Offset = 42 // must be cleared for a miss
	if err := c.LookupMany(blobs, locs, found); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found, want) {
		t.Errorf("LookupMany found = %v, want %v", found, want)
	}
	if w := entries[3].Location; locs[0].Offset != w.Offset || locs[0].Pack != pack || locs[1] != (Location{}) {
		t.Errorf("LookupMany locations = %+v", locs)
	}
	if err := c.HasMany(blobs, make([]bool, 1)); err == nil {
		t.Error("HasMany with a short result slice succeeded")
	}
	if err := c.LookupMany(blobs, make([]Location, 1), found); err == nil {
		t.Error("LookupMany with a short location slice succeeded")
	}
}

func TestTreeCache(t *testing.T) {
	c := openTest(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"small", []byte("a tree")},
		{"empty", nil},
		{"1 MiB", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := id.Hash(tc.data)
			if _, ok, err := c.GetTree(tree); err != nil || ok {
				t.Fatalf("GetTree before Put = %v, %v", ok, err)
			}
			in := slices.Clone(tc.data)
			if err := c.PutTree(tree, in); err != nil {
				t.Fatal(err)
			}
			if len(in) > 0 {
				in[0] ^= 0xff // the cache must have copied its input
			}
			got, ok, err := c.GetTree(tree)
			if err != nil || !ok {
				t.Fatalf("GetTree = %v, %v", ok, err)
			}
			if !slices.Equal(got, tc.data) {
				t.Fatalf("GetTree returned %d bytes, want %d (content differs)", len(got), len(tc.data))
			}
			if len(got) > 0 {
				got[0] ^= 0xff // the copy is the caller's
				again, _, _ := c.GetTree(tree)
				if !slices.Equal(again, tc.data) {
					t.Fatal("modifying GetTree's result changed the cache")
				}
			}
		})
	}
}
