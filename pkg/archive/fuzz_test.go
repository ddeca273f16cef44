package archive

import (
	"bytes"
	"testing"
)

func FuzzDecodeTree(f *testing.F) {
	good, _ := EncodeTree(&Tree{Nodes: sampleNodes()})
	f.Add(good)
	empty, _ := EncodeTree(&Tree{})
	f.Add(empty)
	parts, _ := EncodeTree(&Tree{Parts: [][]byte{make([]byte, 32)}})
	f.Add(parts)
	f.Add([]byte{0xa1, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := DecodeTree(data)
		if err != nil {
			return
		}
		enc, err := EncodeTree(tr)
		if err != nil {
			t.Fatalf("decoded tree does not encode: %v", err)
		}
		tr2, err := DecodeTree(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		enc2, _ := EncodeTree(tr2)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding not stable")
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	rec, _ := EncodeRecord(&Record{Name: "a", Tree: make([]byte, 32), Start: "2026-01-01T00:00:00Z", End: "2026-01-01T00:00:00Z"})
	f.Add(rec)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeRecord(data)
		_, _ = DecodeExtentList(data)
	})
}
