package format

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

func sampleBlobs(n int) []Blob {
	var out []Blob
	var off uint32
	for i := 0; i < n; i++ {
		b := Blob{Type: id.DataBlob, ID: id.Hash([]byte{byte(i), byte(i >> 8)}), Offset: off, Length: uint32(100 + i*7), RawLength: uint32(300 + i)}
		if i%3 == 0 {
			b.Type = id.TreeBlob
		}
		off += b.Length
		out = append(out, b)
	}
	return out
}

func TestTrailerRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100, 5000} {
		blobs := sampleBlobs(n)
		enc := EncodeTrailer(blobs)
		got, end, err := DecodeTrailer(enc)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		var want uint64
		for _, b := range blobs {
			want += uint64(b.Length)
		}
		if end != want {
			t.Fatalf("n=%d: end %d want %d", n, end, want)
		}
		if len(got) != len(blobs) || (n > 0 && !reflect.DeepEqual(got, blobs)) {
			t.Fatalf("n=%d: blobs differ", n)
		}
	}
}

func TestTrailerRejects(t *testing.T) {
	good := EncodeTrailer(sampleBlobs(3))
	gap := sampleBlobs(3)
	gap[1].Offset++
	badType := sampleBlobs(2)
	badType[0].Type = 9
	cases := map[string][]byte{
		"empty":       {},
		"version":     append([]byte{2}, good[1:]...),
		"huge count":  {1, 0xff, 0xff, 0xff, 0xff, 0x07},
		"gap":         EncodeTrailer(gap),
		"bad type":    EncodeTrailer(badType),
		"trailing":    append(append([]byte{}, good...), 0),
		"truncated 1": good[:len(good)-1],
		"truncated":   good[:10],
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := DecodeTrailer(data); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	// Every strict prefix of a valid encoding is rejected.
	for i := 0; i < len(good); i++ {
		if _, _, err := DecodeTrailer(good[:i]); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
}

func TestIndexRoundTrip(t *testing.T) {
	ix := &Index{
		Supersedes: []id.ID{id.Hash([]byte("old1")), id.Hash([]byte("old2"))},
		Packs: []IndexPack{
			{ID: id.Hash([]byte("p1")), Blobs: sampleBlobs(3)},
			{ID: id.Hash([]byte("p2")), Blobs: sampleBlobs(1)},
		},
	}
	got, err := DecodeIndex(EncodeIndex(ix))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ix) {
		t.Fatalf("round trip differs:\n%+v\n%+v", got, ix)
	}
	empty, err := DecodeIndex(EncodeIndex(&Index{}))
	if err != nil || len(empty.Packs) != 0 || len(empty.Supersedes) != 0 {
		t.Fatalf("empty index: %v %+v", err, empty)
	}
	enc := EncodeIndex(ix)
	for i := 0; i < len(enc); i++ {
		if _, err := DecodeIndex(enc[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
}

// TestGoldenEncoding pins the v1 byte layout: if this changes, old
// repositories become unreadable.
func TestGoldenEncoding(t *testing.T) {
	b := Blob{Type: id.DataBlob, ID: id.ID{1, 2, 3}, Offset: 0, Length: 300, RawLength: 5}
	got := EncodeTrailer([]Blob{b})
	want := append([]byte{1, 1, 1, 1, 2, 3}, make([]byte, 29)...)
	want = append(want, 0, 0xac, 0x02, 5)
	if !bytes.Equal(got, want) {
		t.Fatalf("trailer encoding changed:\n got %x\nwant %x", got, want)
	}
}

func TestConfigHeader(t *testing.T) {
	h := &ConfigHeader{Format: Magic, Version: ConfigVersion, ID: id.Hash([]byte("r")), Encryption: EncRepokey, AEAD: "aes-256-gcm", Body: []byte{1, 2, 3}}
	enc, err := EncodeConfigHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeConfigHeader(enc)
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	cases := []struct {
		name string
		data string
		want error
	}{
		{"not json", "hello", ErrNotGobak},
		{"borg config", "[repository]\nversion = 1\n", ErrNotGobak},
		{"other format", `{"format":"restic","version":1}`, ErrNotGobak},
		{"version 2", `{"format":"gobak","version":2}`, ErrVersion},
		{"bad encryption", `{"format":"gobak","version":1,"encryption":"rot13"}`, ErrMalformed},
		{"no id", `{"format":"gobak","version":1,"encryption":"none","body":"AQI="}`, ErrMalformed},
		{"damaged base64", `{"format": "gobak", "version": 1, "body": "A?I="}`, ErrMalformed},
		{"damaged syntax", `{"format": "gobak", "version": 1, "body": "AQI=",,}`, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := DecodeConfigHeader([]byte(c.data)); !errors.Is(err, c.want) {
				t.Fatalf("got %v want %v", err, c.want)
			}
		})
	}
}

func TestConfigBody(t *testing.T) {
	b := &ConfigBody{ChunkerPolynomial: 0x3DA3358B4DC173, ChunkerMin: 1, ChunkerAvg: 2, ChunkerMax: 4, PackSize: 16 << 20, Compression: "lz4", IDKeyCheck: id.Hash([]byte("k")), Created: time.Unix(1700000000, 0).UTC()}
	enc, err := EncodeConfigBody(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeConfigBody(enc)
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, got, b)
	}
	if _, err := DecodeConfigBody([]byte(`{}`)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty body accepted: %v", err)
	}
}

func TestLock(t *testing.T) {
	l := &Lock{Hostname: "h", Username: "u", PID: 42, Exclusive: true, Time: time.Unix(1700000000, 0).UTC(), Nonce: "n"}
	enc, err := EncodeLock(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeLock(enc)
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	for _, s := range []string{"", "{}", `{"time":"2024-01-01T00:00:00Z","pid":-1}`, "[]"} {
		if _, err := DecodeLock([]byte(s)); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeLock(%q) = %v", s, err)
		}
	}
}
