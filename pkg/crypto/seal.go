package crypto

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	"github.com/zeebo/blake3"
)

// zeroNonce is the AEAD nonce of every message: each message has its own
// random subkey, so a fixed nonce is never reused under one key (see the
// package documentation for the collision bound).
var zeroNonce [12]byte

// Seal appends the sealed form of plaintext, authenticated together with the
// associated data ad, to dst and returns the extended slice; it adds exactly
// [Key.Overhead] bytes. For the AEAD suites a fresh 24-byte salt comes from
// crypto/rand, so sealing the same plaintext twice gives different results.
//
// Seal has no error return: since Go 1.24 crypto/rand.Read never fails (the
// program aborts if the operating system cannot supply randomness), and the
// suite's cipher was checked by [NewKey].
//
// dst may overlap plaintext or ad. Sealing in place without moving the
// data works when plaintext starts exactly Overhead()-16 bytes (24 for the
// AEAD suites, 0 for None) after the end of dst: dst = buf[:n] and
// plaintext = buf[n+24:] with enough capacity for the tag. Other overlaps
// cost a memmove of plaintext. Seal is safe for concurrent use.
func (k *Key) Seal(dst, plaintext, ad []byte) []byte {
	if k.suite == None {
		return k.sealNone(dst, plaintext, ad)
	}
	var salt [saltSize]byte
	_, _ = rand.Read(salt[:]) // never returns an error since Go 1.24
	return k.sealAEAD(dst, plaintext, ad, &salt)
}

// sealAEAD is Seal for the AEAD suites with a given salt; tests use it to pin
// the format.
func (k *Key) sealAEAD(dst, plaintext, ad []byte, salt *[saltSize]byte) []byte {
	whole, out := sliceForAppend(dst, saltSize+len(plaintext)+tagSize)
	body := out[saltSize:]
	if anyOverlap(out, ad) {
		ad = bytes.Clone(ad)
	}
	if anyOverlap(out, plaintext) && !sameStart(body, plaintext) {
		// Move the plaintext to where the ciphertext goes and encrypt it
		// there: an exact overlap, which crypto/cipher allows.
		plaintext = body[:copy(body, plaintext)]
	}
	copy(out, salt[:])
	aead := k.subkeyAEAD(salt[:])
	aead.Seal(body[:0], zeroNonce[:], plaintext, ad)
	return whole
}

// Open verifies sealed against the associated data ad, appends the
// plaintext to dst and returns the extended slice. If sealed is shorter than
// [Key.Overhead], was altered, or was sealed under another key, suite or ad,
// Open returns nil and an error wrapping [ErrAuth]; it never panics, whatever
// the input. On error the spare capacity of dst may have been overwritten.
//
// dst may overlap sealed (Open(buf[:0], buf, ad) decrypts in place, and
// then sealed is overwritten even on error) or ad. Open is safe for
// concurrent use.
func (k *Key) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < k.Overhead() {
		return nil, fmt.Errorf("%w: %s: sealed message has %d bytes, need at least %d",
			ErrAuth, k.suite, len(sealed), k.Overhead())
	}
	if k.suite == None {
		return k.openNone(dst, sealed, ad)
	}
	salt, ct := sealed[:saltSize], sealed[saltSize:]
	n := len(ct) - tagSize
	whole, out := sliceForAppend(dst, n)
	if anyOverlap(out, ad) || anyOverlap(out, sealed) && anyOverlap(ct, ad) {
		ad = bytes.Clone(ad)
	}
	aead := k.subkeyAEAD(salt)
	if !anyOverlap(out, sealed) || sameStart(out, ct) {
		if _, err := aead.Open(out[:0], zeroNonce[:], ct, ad); err != nil {
			return nil, fmt.Errorf("%w: %s: %d-byte message", ErrAuth, k.suite, len(sealed))
		}
		return whole, nil
	}
	// dst overlaps sealed at another offset: the caller gave up sealed, so
	// decrypt it in place, then move the plaintext where it belongs.
	if _, err := aead.Open(ct[:0], zeroNonce[:], ct, ad); err != nil {
		return nil, fmt.Errorf("%w: %s: %d-byte message", ErrAuth, k.suite, len(sealed))
	}
	copy(out, ct[:n])
	return whole, nil
}

// subkeyAEAD returns the AEAD for one message: keyed BLAKE3 (master Enc) of
// "gobak v1 seal " || suite || 0x00 || salt, first 32 bytes.
func (k *Key) subkeyAEAD(salt []byte) cipher.AEAD {
	var sub [32]byte
	h := k.encHashers.Get().(*blake3.Hasher)
	h.Reset()
	_, _ = h.WriteString(k.sealPrefix)
	_, _ = h.Write(salt)
	h.Sum(sub[:0])
	k.encHashers.Put(h)
	aead, err := k.newAEAD(sub[:])
	clear(sub[:])
	if err != nil {
		// Unreachable: NewKey checked this cipher with a key of this size.
		panic("gobak/crypto: " + string(k.suite) + ": " + err.Error())
	}
	return aead
}

// noneTag computes the None suite's tag: the first 16 bytes of keyed BLAKE3
// (master Enc) of uvarint(len(ad)) || ad || msg.
func (k *Key) noneTag(tag *[tagSize]byte, msg, ad []byte) {
	var lenBuf [binary.MaxVarintLen64]byte
	var sum [32]byte
	h := k.encHashers.Get().(*blake3.Hasher)
	h.Reset()
	_, _ = h.Write(binary.AppendUvarint(lenBuf[:0], uint64(len(ad))))
	_, _ = h.Write(ad)
	_, _ = h.Write(msg)
	h.Sum(sum[:0])
	k.encHashers.Put(h)
	copy(tag[:], sum[:tagSize])
}

func (k *Key) sealNone(dst, plaintext, ad []byte) []byte {
	var tag [tagSize]byte
	k.noneTag(&tag, plaintext, ad)
	whole, out := sliceForAppend(dst, len(plaintext)+tagSize)
	copy(out, plaintext) // copy is memmove: any overlap is fine
	copy(out[len(plaintext):], tag[:])
	return whole
}

func (k *Key) openNone(dst, sealed, ad []byte) ([]byte, error) {
	msg, got := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
	var want [tagSize]byte
	k.noneTag(&want, msg, ad)
	if subtle.ConstantTimeCompare(want[:], got) != 1 {
		return nil, fmt.Errorf("%w: %s: %d-byte message", ErrAuth, k.suite, len(sealed))
	}
	whole, out := sliceForAppend(dst, len(msg))
	copy(out, msg)
	return whole, nil
}
