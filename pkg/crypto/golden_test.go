package crypto

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/gobak/gobak/pkg/id"
)

// The golden vectors freeze the v1 sealed format. They were generated once
// with fixedMaster(), salt 80..97, and cross-checked against an independent
// BLAKE3 implementation plus Python's cryptography package (AES-GCM,
// ChaCha20-Poly1305). If one of these tests fails, the on-disk format has
// changed: existing repositories would no longer open. Do not update them.
const (
	goldenPlaintext = "gobak sealed format v1 golden vector\n"
	goldenAD        = "gobak golden ad"
)

var goldenSealed = map[Suite]string{
	AES256GCM: "808182838485868788898a8b8c8d8e8f9091929394959697" +
		"3f551c41c091071ae50be34e7b164518bd377dd601c74d4e70578a35c0140ee47ac177fb7f" +
		"741970855f02e409b578f82d9067fe77",
	ChaCha20Poly1305: "808182838485868788898a8b8c8d8e8f9091929394959697" +
		"717dfc389a1f757162bf50643f5fc248c6d13a051a6701fedf8807cf5c1dd6d8fe60684698" +
		"6ff8f940cbd990bf5ca095f6cb7b9e2a",
	None: "676f62616b207365616c656420666f726d617420763120676f6c64656e20766563746f720a" +
		"a11cbfcc92028d18104787e8cb4846ea",
}

func TestGoldenSealed(t *testing.T) {
	var salt [saltSize]byte
	for i := range salt {
		salt[i] = byte(0x80 + i)
	}
	for _, s := range allSuites {
		t.Run(string(s), func(t *testing.T) {
			sealed, err := hex.DecodeString(goldenSealed[s])
			if err != nil {
				t.Fatal(err)
			}
			k, err := NewKey(fixedMaster(), s)
			if err != nil {
				t.Fatal(err)
			}
			mustOpen(t, k, sealed, []byte(goldenAD), []byte(goldenPlaintext))

			// And the sealing direction produces exactly these bytes.
			var again []byte
			if s == None {
				again = k.Seal(nil, []byte(goldenPlaintext), []byte(goldenAD))
			} else {
				again = k.sealAEAD(nil, []byte(goldenPlaintext), []byte(goldenAD), &salt)
			}
			if !bytes.Equal(again, sealed) {
				t.Fatalf("seal of golden input = %x\nwant                 %x", again, sealed)
			}
		})
	}
}

// goldenKeyFile was made once by WrapMasterKey(fixedMaster(),
// goldenPassphrase, goldenRepo, TestKDF, "golden-host", "golden-user"), and
// opened independently with Python's cryptography package (Argon2id, plus
// HChaCha20 by hand for XChaCha20-Poly1305) when it was pasted in.
const (
	goldenPassphrase = "correct horse battery staple"
	goldenKeyFile    = `{
  "version": 1,
  "repository": "ad2e70323aacbdc5e6f246442ba0cc92ca18fb03fcccdde5a6cd38142fc9189a",
  "kdf": "argon2id",
  "time": 1,
  "memory_kib": 64,
  "threads": 1,
  "salt": "1mRDQ1jyO4DPO6du2p6C9tlF0vJWVB+uSe0/lXeJuBA=",
  "data": "sxj9TVURXvhGFmueldn676kr94p37DI1zWXU8WAzJ6wbbyb9C66Kqsqdj6K2yraCXEU9rK3r+WkS71KW6QD/fCYC3eb1Z8NVQtuUSvhcL1iNzxhkI1mQM4LhtJPuPnMMmr8ZVAhW8IA=",
  "created": "2026-11-26T03:04:10.344185051Z",
  "hostname": "golden-host",
  "username": "golden-user"
}
`
)

var goldenRepo = id.Hash([]byte("gobak golden repository"))

func TestGoldenKeyFile(t *testing.T) {
	kf, err := ParseKeyFile([]byte(goldenKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if kf.Repository != goldenRepo || kf.Hostname != "golden-host" || kf.Username != "golden-user" ||
		kf.Time != TestKDF.Time || kf.MemoryKiB != TestKDF.MemoryKiB || kf.Threads != TestKDF.Threads {
		t.Fatalf("decoded fields wrong: %+v", kf)
	}
	m, err := kf.Unwrap([]byte(goldenPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	if *m != *fixedMaster() {
		t.Fatalf("unwrapped master key %x, want the fixed one", m.Enc)
	}
	// Marshal reproduces the file byte for byte.
	out, err := kf.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != goldenKeyFile {
		t.Fatalf("Marshal =\n%s\nwant\n%s", out, goldenKeyFile)
	}
}
