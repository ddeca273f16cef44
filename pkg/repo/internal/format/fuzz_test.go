package format

import (
	"bytes"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

func FuzzDecodeTrailer(f *testing.F) {
	f.Add(EncodeTrailer(nil))
	f.Add(EncodeTrailer(sampleBlobs(1)))
	f.Add(EncodeTrailer(sampleBlobs(7)))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		blobs, _, err := DecodeTrailer(data)
		if err != nil {
			return
		}
		// A trailer that decodes re-encodes to a trailer that decodes to the same blobs.
		again, _, err := DecodeTrailer(EncodeTrailer(blobs))
		if err != nil || len(again) != len(blobs) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add(EncodeIndex(&Index{}))
	f.Add(EncodeIndex(&Index{Supersedes: []id.ID{{1}}, Packs: []IndexPack{{ID: id.ID{2}, Blobs: sampleBlobs(4)}}}))
	f.Add([]byte{1, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := DecodeIndex(data)
		if err != nil {
			return
		}
		enc := EncodeIndex(ix)
		ix2, err := DecodeIndex(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(EncodeIndex(ix2), enc) {
			t.Fatal("encoding not stable")
		}
	})
}

func FuzzDecodeConfigHeader(f *testing.F) {
	h, _ := EncodeConfigHeader(&ConfigHeader{Format: Magic, Version: 1, ID: id.ID{1}, Encryption: EncNone, AEAD: "none", Body: []byte("x")})
	f.Add(h)
	f.Add([]byte(`{"format":"gobak","version":1}`))
	body, _ := EncodeConfigBody(&ConfigBody{PackSize: 1, ChunkerMax: 1, IDKeyCheck: id.ID{1}})
	f.Add(body)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeConfigHeader(data)
		hl, errl := DecodeConfigHeaderLenient(data)
		if err == nil && (errl != nil || string(hl.Body) != string(h.Body)) {
			t.Fatalf("lenient decoding differs on a valid header: %v", errl)
		}
		if errl == nil && (hl.ID.IsNull() || hl.Format != Magic) {
			t.Fatalf("lenient decoding accepted %+v", hl)
		}
		_, _ = DecodeConfigBody(data)
	})
}

func FuzzDecodeLock(f *testing.F) {
	l, _ := EncodeLock(&Lock{Hostname: "h", PID: 1})
	f.Add(l)
	f.Add([]byte(`{"time":"2024-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeLock(data)
	})
}
