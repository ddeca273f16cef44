// Package crypto holds gobak's repository cryptography: master keys,
// passphrase-wrapped key files, keyed blob IDs and the sealed (authenticated,
// usually encrypted) form of every blob, index file and archive record.
//
// # Keys
//
// A [MasterKey] is 64 random bytes: Enc, the root of every encryption and
// authentication key, and ID, the key of the keyed BLAKE3-256 that names
// blobs ([Key.BlobID]). Repositories without encryption ([None]) use the
// fixed [PublicMasterKey], so blob IDs and tags still verify but anyone can
// compute them. A master key is stored in the repository only inside a key
// file ([WrapMasterKey], [ParseKeyFile], [KeyFile.Unwrap]): argon2id turns the
// passphrase into a key-encryption key that seals the master key with
// XChaCha20-Poly1305, bound to the repository ID.
//
// # Sealed format, version 1
//
// For [AES256GCM] and [ChaCha20Poly1305] a sealed message is
//
//	salt[24] || ciphertext || tag[16]
//
// The salt is fresh from crypto/rand for every message. The message's own
// 32-byte subkey is the keyed BLAKE3-256 (key = MasterKey.Enc) of
//
//	"gobak v1 seal " || suite name || 0x00 || salt
//
// and the AEAD (AES-256-GCM or ChaCha20-Poly1305, 12-byte nonce) runs under
// that subkey with an all-zero nonce and the caller's associated data. Each
// subkey encrypts exactly one message, so the fixed nonce is never reused
// under a key unless two salts collide. With n messages under one master key
// the chance of any collision among the 192-bit salts is at most
// n²/2^193; for n = 2^40 blobs that is about 2^-113, far below any other
// risk to the data. (Random 96-bit nonces under a single key would reach a
// 2^-32 collision chance after only about 2^32 messages.)
//
// For [None] a sealed message is
//
//	plaintext || tag[16]
//
// where tag is the first 16 bytes of the keyed BLAKE3 (key = MasterKey.Enc)
// of uvarint(len(ad)) || ad || plaintext. With the public master key this
// gives no secrecy and no protection against a deliberate forger, but it
// detects corruption and moved or swapped blobs just as the real AEADs do.
//
// The format is frozen: golden tests in this package pin both directions.
//
// # Concurrency
//
// [Key] is immutable and safe for concurrent use by many goroutines;
// [MasterKey] and [KeyFile] are plain values.
package crypto
