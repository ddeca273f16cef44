package crypto

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gobak/gobak/pkg/id"
)

// wrapTest wraps m with TestKDF and parses the result.
func wrapTest(t *testing.T, m *MasterKey, pass string, repo id.ID) (*KeyFile, []byte) {
	t.Helper()
	data, err := WrapMasterKey(m, []byte(pass), repo, TestKDF, "host", "user")
	if err != nil {
		t.Fatal(err)
	}
	kf, err := ParseKeyFile(data)
	if err != nil {
		t.Fatalf("ParseKeyFile of a fresh key file: %v\n%s", err, data)
	}
	return kf, data
}

func TestWrapUnwrap(t *testing.T) {
	m, _ := NewMasterKey()
	repo := id.Hash([]byte("repo"))
	before := time.Now().Add(-time.Second)
	kf, data := wrapTest(t, m, "secret", repo)

	if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.Contains(data, []byte("\n  \"version\": 1,")) {
		t.Fatalf("not indented JSON with a trailing newline:\n%s", data)
	}
	if kf.Version != 1 || kf.KDF != "argon2id" || kf.Repository != repo || len(kf.Salt) != 32 ||
		len(kf.Data) != 104 || kf.Hostname != "host" || kf.Username != "user" ||
		kf.Created.Before(before) || kf.Created.After(time.Now().Add(time.Second)) {
		t.Fatalf("key file fields wrong: %+v", kf)
	}
	if bytes.Contains(data, m.Enc[:8]) || bytes.Contains(kf.Data, m.Enc[:8]) {
		t.Fatal("key file contains master key bytes")
	}
	got, err := kf.Unwrap([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if *got != *m {
		t.Fatal("Unwrap returned another master key")
	}

	// Two wraps of the same key differ (fresh salt and nonce).
	kf2, _ := wrapTest(t, m, "secret", repo)
	if bytes.Equal(kf.Salt, kf2.Salt) || bytes.Equal(kf.Data, kf2.Data) {
		t.Fatal("two wraps share salt or data")
	}

	// Empty passphrases are allowed (borg allows them too).
	kf3, _ := wrapTest(t, m, "", repo)
	if got, err := kf3.Unwrap(nil); err != nil || *got != *m {
		t.Fatalf("empty passphrase: %v", err)
	}
}

func TestUnwrapFailures(t *testing.T) {
	m, _ := NewMasterKey()
	repo := id.Hash([]byte("repo"))
	kf, _ := wrapTest(t, m, "secret", repo)

	tests := []struct {
		name   string
		pass   string
		mutate func(kf *KeyFile)
		want   error
	}{
		{"wrong passphrase", "Secret", nil, ErrWrongPassphrase},
		{"empty passphrase", "", nil, ErrWrongPassphrase},
		{"passphrase with suffix", "secret\n", nil, ErrWrongPassphrase},
		{"other repository id", "secret", func(kf *KeyFile) { kf.Repository[0] ^= 1 }, ErrWrongPassphrase},
		{"other salt", "secret", func(kf *KeyFile) { kf.Salt[5] ^= 1 }, ErrWrongPassphrase},
		{"other time", "secret", func(kf *KeyFile) { kf.Time = 2 }, ErrWrongPassphrase},
		{"flipped nonce", "secret", func(kf *KeyFile) { kf.Data[0] ^= 1 }, ErrWrongPassphrase},
		{"flipped key", "secret", func(kf *KeyFile) { kf.Data[40] ^= 1 }, ErrWrongPassphrase},
		{"flipped tag", "secret", func(kf *KeyFile) { kf.Data[103] ^= 0x80 }, ErrWrongPassphrase},
		{"short data", "secret", func(kf *KeyFile) { kf.Data = kf.Data[:100] }, ErrBadKeyFile},
		{"time out of range", "secret", func(kf *KeyFile) { kf.Time = 0 }, ErrBadKeyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *kf
			c.Salt, c.Data = bytes.Clone(kf.Salt), bytes.Clone(kf.Data)
			if tt.mutate != nil {
				tt.mutate(&c)
			}
			got, err := c.Unwrap([]byte(tt.pass))
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("Unwrap = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestWrapMasterKeyRejects(t *testing.T) {
	m := fixedMaster()
	repo := id.Hash([]byte("repo"))
	if _, err := WrapMasterKey(nil, nil, repo, TestKDF, "", ""); err == nil {
		t.Error("nil master key accepted")
	}
	if _, err := WrapMasterKey(m, nil, id.ID{}, TestKDF, "", ""); !errors.Is(err, ErrBadKeyFile) {
		t.Errorf("null repository: %v", err)
	}
	for _, p := range []KDFParams{
		{}, {Time: 0, MemoryKiB: 64, Threads: 1}, {Time: 101, MemoryKiB: 64, Threads: 1},
		{Time: 1, MemoryKiB: 64, Threads: 0}, {Time: 1, MemoryKiB: 31, Threads: 4},
		{Time: 1, MemoryKiB: 4*1024*1024 + 1, Threads: 1},
	} {
		if _, err := WrapMasterKey(m, nil, repo, p, "", ""); !errors.Is(err, ErrBadKeyFile) {
			t.Errorf("WrapMasterKey(%+v) = %v, want ErrBadKeyFile", p, err)
		}
	}
	for _, p := range []KDFParams{DefaultKDF, TestKDF} {
		if err := p.validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestParseKeyFileRejects(t *testing.T) {
	valid, err := ParseKeyFile([]byte(goldenKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	// encode bypasses Marshal's validation, to build bad files.
	encode := func(mutate func(kf *KeyFile)) string {
		c := *valid
		c.Salt, c.Data = bytes.Clone(valid.Salt), bytes.Clone(valid.Data)
		mutate(&c)
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, in, wantMsg string
	}{
		{"empty", "", "unexpected end"},
		{"not json", "key", "invalid character"},
		{"null", "null", "version 0"},
		{"array", "[]", "cannot unmarshal"},
		{"trailing garbage", strings.TrimSpace(goldenKeyFile) + "x", "invalid character"},
		{"two objects", goldenKeyFile + goldenKeyFile, "invalid character"},
		{"version 0", encode(func(kf *KeyFile) { kf.Version = 0 }), "version 0"},
		{"version 2", encode(func(kf *KeyFile) { kf.Version = 2 }), "version 2"},
		{"version string", strings.Replace(goldenKeyFile, `"version": 1`, `"version": "1"`, 1), "cannot unmarshal"},
		{"kdf scrypt", encode(func(kf *KeyFile) { kf.KDF = "scrypt" }), "kdf"},
		{"kdf upper case", encode(func(kf *KeyFile) { kf.KDF = "Argon2id" }), "kdf"},
		{"kdf missing", encode(func(kf *KeyFile) { kf.KDF = "" }), "kdf"},
		{"null repository", encode(func(kf *KeyFile) { kf.Repository = id.ID{} }), "repository"},
		{"short repository", strings.Replace(goldenKeyFile, `"ad2e70`, `"`, 1), "invalid id"},
		{"salt short", encode(func(kf *KeyFile) { kf.Salt = kf.Salt[:31] }), "salt has 31"},
		{"salt long", encode(func(kf *KeyFile) { kf.Salt = append(kf.Salt, 0) }), "salt has 33"},
		{"salt missing", encode(func(kf *KeyFile) { kf.Salt = nil }), "salt has 0"},
		{"salt not base64", strings.Replace(goldenKeyFile, `"1mRD`, `"!mRD`, 1), "illegal base64"},
		{"data short", encode(func(kf *KeyFile) { kf.Data = kf.Data[:103] }), "data has 103"},
		{"data long", encode(func(kf *KeyFile) { kf.Data = append(kf.Data, 0) }), "data has 105"},
		{"data missing", encode(func(kf *KeyFile) { kf.Data = nil }), "data has 0"},
		{"time 0", encode(func(kf *KeyFile) { kf.Time = 0 }), "time 0"},
		{"time 101", encode(func(kf *KeyFile) { kf.Time = 101 }), "time 101"},
		{"time negative", strings.Replace(goldenKeyFile, `"time": 1`, `"time": -1`, 1), "cannot unmarshal"},
		{"threads 0", encode(func(kf *KeyFile) { kf.Threads = 0 }), "threads is 0"},
		{"threads 256", strings.Replace(goldenKeyFile, `"threads": 1`, `"threads": 256`, 1), "cannot unmarshal"},
		{"memory below 8 per thread", encode(func(kf *KeyFile) { kf.Threads, kf.MemoryKiB = 9, 71 }), "memory 71"},
		{"memory 0", encode(func(kf *KeyFile) { kf.MemoryKiB = 0 }), "memory 0"},
		{"memory above 4 GiB", encode(func(kf *KeyFile) { kf.MemoryKiB = 4*1024*1024 + 1 }), "memory 4194305"},
		{"created not a time", strings.Replace(goldenKeyFile, `"2026-11-26T03`, `"yesterday`, 1), "cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kf, err := ParseKeyFile([]byte(tt.in))
			if !errors.Is(err, ErrBadKeyFile) || kf != nil {
				t.Fatalf("ParseKeyFile = %v, %v; want ErrBadKeyFile", kf, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
			// Marshal refuses the same bad values (where they decode).
			if bad, _ := decodeUnchecked(tt.in); bad != nil {
				if _, err := bad.Marshal(); !errors.Is(err, ErrBadKeyFile) {
					t.Fatalf("Marshal of a bad key file: %v", err)
				}
			}
		})
	}

	// Limits are inclusive.
	for _, ok := range []func(kf *KeyFile){
		func(kf *KeyFile) { kf.Time = 100 },
		func(kf *KeyFile) { kf.Threads, kf.MemoryKiB = 255, 8*255 },
		func(kf *KeyFile) { kf.MemoryKiB = 4 * 1024 * 1024 },
		func(kf *KeyFile) { kf.Hostname, kf.Username = "", "" },
	} {
		if _, err := ParseKeyFile([]byte(encode(ok))); err != nil {
			t.Errorf("valid variant rejected: %v", err)
		}
	}
	// Unknown fields are ignored, for forward compatibility.
	extra := strings.Replace(goldenKeyFile, `"version": 1,`, `"version": 1, "comment": "x",`, 1)
	if _, err := ParseKeyFile([]byte(extra)); err != nil {
		t.Errorf("unknown field rejected: %v", err)
	}
}

// decodeUnchecked decodes JSON into a KeyFile without validation.
func decodeUnchecked(s string) (*KeyFile, error) {
	kf := new(KeyFile)
	if err := json.Unmarshal([]byte(s), kf); err != nil {
		return nil, err
	}
	return kf, nil
}
