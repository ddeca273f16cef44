package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open under each suite: it must never
// panic, must fail only with ErrAuth, and whatever it accepts must re-seal
// to the same bytes. It also checks that arbitrary plaintexts round trip.
func FuzzOpen(f *testing.F) {
	keys := make([]*Key, len(allSuites))
	for i, s := range allSuites {
		k, err := NewKey(fixedMaster(), s)
		if err != nil {
			f.Fatal(err)
		}
		keys[i] = k
	}
	for i, s := range allSuites {
		golden, _ := hex.DecodeString(goldenSealed[s])
		f.Add(uint8(i), golden, []byte(goldenAD))
		f.Add(uint8(i), keys[i].Seal(nil, nil, nil), []byte{})
		f.Add(uint8(i), keys[i].Seal(nil, pattern(300), []byte("x")), []byte("x"))
		f.Add(uint8(i), make([]byte, keys[i].Overhead()), []byte(nil))
	}
	f.Add(uint8(0), []byte("junk"), []byte("ad"))
	f.Add(uint8(1), bytes.Repeat([]byte{0xff}, 41), []byte{0})

	f.Fuzz(func(t *testing.T, sel uint8, data, ad []byte) {
		k := keys[int(sel)%len(keys)]
		out, err := k.Open(nil, data, ad)
		if err != nil {
			if !errors.Is(err, ErrAuth) || out != nil {
				t.Fatalf("Open = %d bytes, %v; want nil, ErrAuth", len(out), err)
			}
		} else {
			var again []byte
			if k.Suite() == None {
				again = k.Seal(nil, out, ad)
			} else {
				salt := [saltSize]byte(data[:saltSize])
				again = k.sealAEAD(nil, out, ad, &salt)
			}
			if !bytes.Equal(again, data) {
				t.Fatalf("accepted message does not re-seal to itself")
			}
		}
		// Opening in place gives the same verdict and plaintext.
		work := bytes.Clone(data)
		inPlace, err2 := k.Open(work[:0], work, ad)
		if (err == nil) != (err2 == nil) || !bytes.Equal(inPlace, out) {
			t.Fatalf("in-place Open differs: %v vs %v", err, err2)
		}

		// data as a plaintext round trips.
		sealed := k.Seal(nil, data, ad)
		if len(sealed) != len(data)+k.Overhead() {
			t.Fatalf("sealed length %d, want %d", len(sealed), len(data)+k.Overhead())
		}
		got, err := k.Open(nil, sealed, ad)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParseKeyFile: ParseKeyFile must never panic, must fail only with
// ErrBadKeyFile, and what it accepts must re-encode stably.
func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte(goldenKeyFile))
	f.Add([]byte(`{"version":1,"kdf":"argon2id","time":1,"memory_kib":64,"threads":1}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"salt":"AAAA","data":"","created":"2024-01-01T00:00:00+01:00"}`))
	f.Add([]byte("\x00\xff{"))

	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := ParseKeyFile(data)
		if err != nil {
			if !errors.Is(err, ErrBadKeyFile) || kf != nil {
				t.Fatalf("ParseKeyFile = %v, %v; want nil, ErrBadKeyFile", kf, err)
			}
			return
		}
		enc, err := kf.Marshal()
		if err != nil {
			// A Created time outside what encoding/json can write (years
			// beyond 9999) is the only thing that may fail here.
			if kf.Created.Year() >= 0 && kf.Created.Year() <= 9999 {
				t.Fatalf("Marshal of a parsed key file: %v", err)
			}
			return
		}
		kf2, err := ParseKeyFile(enc)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, enc)
		}
		enc2, err := kf2.Marshal()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding not stable: %v\n%s\n%s", err, enc, enc2)
		}
	})
}
