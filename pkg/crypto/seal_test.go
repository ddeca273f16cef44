package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	ad := []byte("blob id as associated data")
	for _, s := range allSuites {
		k := newTestKey(t, s)
		for _, n := range []int{0, 1, 4096, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", s, n), func(t *testing.T) {
				pt := pattern(n)
				sealed := k.Seal(nil, pt, ad)
				if len(sealed) != n+k.Overhead() {
					t.Fatalf("sealed length %d, want %d", len(sealed), n+k.Overhead())
				}
				if s != None && n >= 16 && bytes.Contains(sealed, pt[:16]) {
					t.Fatal("sealed form contains the plaintext")
				}
				mustOpen(t, k, sealed, ad, pt)

				// Appending: dst's contents stay, result follows them.
				prefix := []byte("prefix")
				sealed2 := k.Seal(bytes.Clone(prefix), pt, ad)
				if !bytes.HasPrefix(sealed2, prefix) || len(sealed2) != len(prefix)+n+k.Overhead() {
					t.Fatal("Seal does not append to dst")
				}
				got, err := k.Open(bytes.Clone(prefix), sealed2[len(prefix):], ad)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], pt) {
					t.Fatal("Open does not append to dst")
				}
				// nil and empty ad are the same.
				mustOpen(t, k, k.Seal(nil, pt, nil), []byte{}, pt)
			})
		}
	}
}

// TestSealTamper flips every bit of a small sealed message (salt,
// ciphertext and tag), and changes ad, suite and key: all must fail with
// ErrAuth.
func TestSealTamper(t *testing.T) {
	ad := []byte("associated")
	for _, s := range allSuites {
		t.Run(string(s), func(t *testing.T) {
			k := newTestKey(t, s)
			pt := pattern(50)
			sealed := k.Seal(nil, pt, ad)
			for i := range sealed {
				for bit := range 8 {
					bad := bytes.Clone(sealed)
					bad[i] ^= 1 << bit
					if _, err := k.Open(nil, bad, ad); !errors.Is(err, ErrAuth) {
						t.Fatalf("flip byte %d bit %d: err = %v, want ErrAuth", i, bit, err)
					}
				}
			}
			for _, badAD := range [][]byte{nil, []byte("associatee"), []byte("associated\x00"), []byte("Associated")} {
				if _, err := k.Open(nil, sealed, badAD); !errors.Is(err, ErrAuth) {
					t.Fatalf("ad %q: err = %v, want ErrAuth", badAD, err)
				}
			}
			// Moving bytes between ad and message must be detected too.
			if _, err := k.Open(nil, k.Seal(nil, []byte("bc"), []byte("a")), []byte("ab")); err == nil && s != None {
				t.Fatal("ad/message boundary not authenticated")
			}
			if s == None {
				if _, err := k.Open(nil, k.Seal(nil, []byte("bc"), []byte("a")), []byte("ab")); !errors.Is(err, ErrAuth) {
					t.Fatalf("none: ad/message boundary not authenticated: %v", err)
				}
			}
			// Extending or shortening the message.
			for _, bad := range [][]byte{append(bytes.Clone(sealed), 0), sealed[:len(sealed)-1], sealed[1:]} {
				if _, err := k.Open(nil, bad, ad); !errors.Is(err, ErrAuth) {
					t.Fatalf("length %d: err = %v, want ErrAuth", len(bad), err)
				}
			}
			// Another key of the same suite.
			other := newTestKey(t, s)
			if s == None {
				m := fixedMaster()
				other, _ = NewKey(m, None)
			}
			if _, err := other.Open(nil, sealed, ad); !errors.Is(err, ErrAuth) {
				t.Fatalf("other key: err = %v, want ErrAuth", err)
			}
			// Same master key, other suites.
			for _, s2 := range allSuites {
				if s2 == s {
					continue
				}
				k2, _ := NewKey(k.Master(), s2)
				if _, err := k2.Open(nil, sealed, ad); !errors.Is(err, ErrAuth) {
					t.Fatalf("opened with suite %s: err = %v", s2, err)
				}
			}
		})
	}
}

// TestSealSubkeysBindSuite: the same master key and salt give different
// ciphertexts for the two AEADs' subkeys, so no key is shared across suites.
func TestSealSubkeysBindSuite(t *testing.T) {
	var salt [saltSize]byte
	a, _ := NewKey(fixedMaster(), AES256GCM)
	c, _ := NewKey(fixedMaster(), ChaCha20Poly1305)
	if a.sealPrefix == c.sealPrefix {
		t.Fatal("seal prefixes equal")
	}
	sa := a.sealAEAD(nil, []byte("x"), nil, &salt)
	sc := c.sealAEAD(nil, []byte("x"), nil, &salt)
	if bytes.Equal(sa, sc) {
		t.Fatal("suites produce identical output")
	}
}

func TestOpenTruncated(t *testing.T) {
	for _, s := range allSuites {
		t.Run(string(s), func(t *testing.T) {
			k := newTestKey(t, s)
			sealed := k.Seal(nil, pattern(100), nil)
			// Every prefix of a valid message, including all lengths 0..Overhead.
			for n := range len(sealed) {
				got, err := k.Open(nil, sealed[:n], nil)
				if !errors.Is(err, ErrAuth) || got != nil {
					t.Fatalf("Open(%d of %d bytes) = %d bytes, %v; want nil, ErrAuth", n, len(sealed), len(got), err)
				}
			}
			// All-zero and all-0xff inputs of every short length.
			for n := 0; n <= k.Overhead()+1; n++ {
				for _, fill := range []byte{0, 0xff} {
					if _, err := k.Open(nil, bytes.Repeat([]byte{fill}, n), nil); !errors.Is(err, ErrAuth) {
						t.Fatalf("Open(%d bytes of %#x) = %v, want ErrAuth", n, fill, err)
					}
				}
			}
		})
	}
}

func TestSealRandomized(t *testing.T) {
	for _, s := range aeadSuites {
		t.Run(string(s), func(t *testing.T) {
			k := newTestKey(t, s)
			pt := pattern(64)
			a, b := k.Seal(nil, pt, nil), k.Seal(nil, pt, nil)
			if bytes.Equal(a, b) {
				t.Fatal("two seals of the same plaintext are equal")
			}
			if bytes.Equal(a[:saltSize], b[:saltSize]) {
				t.Fatal("two seals share a salt")
			}
			mustOpen(t, k, a, nil, pt)
			mustOpen(t, k, b, nil, pt)
		})
	}
	// None is deterministic by design.
	k := newTestKey(t, None)
	if !bytes.Equal(k.Seal(nil, []byte("x"), nil), k.Seal(nil, []byte("x"), nil)) {
		t.Fatal("none: Seal is not deterministic")
	}
}

// TestSealOpenAliasing covers overlapping dst, plaintext, sealed and ad:
// results must be right and nothing may panic.
func TestSealOpenAliasing(t *testing.T) {
	for _, s := range allSuites {
		t.Run(string(s), func(t *testing.T) {
			k := newTestKey(t, s)
			pt := pattern(1000)
			ad := []byte("ad")
			head := k.Overhead() - tagSize

			// Seal in place with headroom: plaintext right after dst.
			buf := make([]byte, head+len(pt), head+len(pt)+k.Overhead())
			copy(buf[head:], pt)
			sealed := k.Seal(buf[:0], buf[head:], ad)
			mustOpen(t, k, sealed, ad, pt)

			// Seal with dst = plaintext[:0] (inexact overlap for AEADs).
			buf = make([]byte, len(pt), len(pt)+k.Overhead())
			copy(buf, pt)
			sealed = k.Seal(buf[:0], buf, ad)
			mustOpen(t, k, sealed, ad, pt)

			// Seal with ad inside the output region.
			buf = make([]byte, 0, len(pt)+k.Overhead()+8)
			adIn := buf[len(pt) : len(pt)+2]
			copy(adIn, ad)
			sealed = k.Seal(buf, pt, adIn)
			mustOpen(t, k, sealed, ad, pt)

			// Seal with dst = plaintext[:0] and ad in the part of the
			// output that the plaintext moves into.
			buf = make([]byte, len(pt)+k.Overhead())
			copy(buf, pt)
			adIn = buf[len(pt)+10 : len(pt)+12]
			copy(adIn, ad)
			sealed = k.Seal(buf[:0], buf[:len(pt)], adIn)
			mustOpen(t, k, sealed, ad, pt)

			// Open in place: dst = sealed[:0].
			sealed = k.Seal(nil, pt, ad)
			got, err := k.Open(sealed[:0], sealed, ad)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open(sealed[:0]): %v", err)
			}

			// Open with ad in dst's spare capacity.
			sealed = k.Seal(nil, pt, ad)
			buf = make([]byte, len(pt)+10)
			adIn = buf[5:7]
			copy(adIn, ad)
			got, err = k.Open(buf[:0], sealed, adIn)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open with ad in dst: %v", err)
			}

			// Open with dst = sealed[:head] (exact overlap with ciphertext).
			sealed = k.Seal(nil, pt, ad)
			got, err = k.Open(sealed[:head], sealed, ad)
			if err != nil || !bytes.Equal(got[head:], pt) {
				t.Fatalf("Open(sealed[:head]): %v", err)
			}

			// Open with dst starting past the ciphertext start.
			sealed = k.Seal(nil, pt, ad)
			got, err = k.Open(sealed[:head+7], sealed, ad)
			if err != nil || !bytes.Equal(got[head+7:], pt) {
				t.Fatalf("Open(sealed[:head+7]): %v", err)
			}

			// Open with ad inside the region Open writes to. The ad is
			// bytes 3..9 of the sealed message itself: salt bytes for the
			// AEADs (fixed here), plaintext bytes for None.
			for _, off := range []int{0, 1, 5} {
				adIn := pt[3:9]
				if s != None {
					var salt [saltSize]byte
					copy(salt[:], pattern(saltSize))
					adIn = salt[3:9]
					sealed = k.sealAEAD(nil, pt, adIn, &salt)
				} else {
					sealed = k.Seal(nil, pt, adIn)
				}
				got, err = k.Open(sealed[:off], sealed, sealed[3:9])
				if err != nil || !bytes.Equal(got[off:], pt) {
					t.Fatalf("Open(sealed[:%d]) with ad inside sealed: %v", off, err)
				}
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, s := range allSuites {
		t.Run(string(s), func(t *testing.T) {
			k := newTestKey(t, s)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 50 {
						pt := pattern(g*100 + i)
						ad := k.BlobID(pt)
						sealed := k.Seal(nil, pt, ad[:])
						got, err := k.Open(nil, sealed, ad[:])
						if err != nil || !bytes.Equal(got, pt) || k.BlobID(got) != ad {
							errs <- fmt.Errorf("goroutine %d round %d: %v", g, i, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
