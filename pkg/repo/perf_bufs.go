package repo

import (
	"runtime"

	"github.com/gobak/gobak/pkg/id"
)

// Buffer reuse. The write and read paths need large buffers (a chunk of
// up to the chunker's maximum, a pack of PackSize): a sync.Pool drops its
// contents at every garbage collection, so under a steady stream of
// chunks those buffers were allocated again and again, and the garbage
// they left drove the heap (and the process's RSS) far above what is in
// use. These free lists keep a bounded number of buffers instead: memory
// is at most the list length times the buffer size, and nothing is
// re-allocated in steady state.

// scratchStart is the capacity of a new scratch buffer; it grows to the
// largest blob it is used for.
const scratchStart = 1 << 20

// maxScratchKept bounds the size of a scratch buffer that is kept for
// reuse: a larger one (a blob far above the chunker's maximum) is left
// to the garbage collector.
const maxScratchKept = 24 << 20

// scratch holds free scratch buffers for compression, sealing and
// loading: one per processor is what the savers use at once (a blob being
// loaded takes two); more are allocated when needed but not kept.
var scratch = make(chan *[]byte, runtime.GOMAXPROCS(0)+1)

// getBuf returns an empty scratch buffer. It is safe for concurrent use.
func getBuf() *[]byte {
	select {
	case b := <-scratch:
		return b
	default:
		b := make([]byte, 0, scratchStart)
		return &b
	}
}

// putBuf gives a scratch buffer back for reuse (or to the garbage
// collector if the free list is full). It is safe for concurrent use.
func putBuf(b *[]byte) {
	if cap(*b) > maxScratchKept {
		return
	}
	*b = (*b)[:0]
	select {
	case scratch <- b:
	default:
	}
}

// packsKept is how many emptied pack buffers of each blob type are kept
// for reuse: one being filled plus the default number of uploaders.
const packsKept = defaultUploaders + 1

// freePacks holds emptied pack buffers per blob type.
var freePacks = [3]chan *packBuf{
	make(chan *packBuf, packsKept),
	make(chan *packBuf, packsKept),
	make(chan *packBuf, packsKept),
}

// treePackStart is the initial capacity of a tree pack's buffer: data
// packs get their full size at once (they fill up, and growing would copy
// them), tree packs start small (most runs write little tree data).
const treePackStart = 1 << 20

// newPackBuf returns an empty pack buffer for blobs of type t and target
// size size, reusing a freed one if it can. It is safe for concurrent use.
func newPackBuf(t id.BlobType, size int) *packBuf {
	n := size + size/8
	if t != id.DataBlob {
		n = min(n, treePackStart)
	}
	select {
	case p := <-freePacks[t]:
		if cap(p.buf) >= n && cap(p.buf) <= 2*(size+size/8) {
			p.buf, p.blobs = p.buf[:0], p.blobs[:0]
			return p
		}
	default:
	}
	return &packBuf{buf: make([]byte, 0, n), typ: t}
}

// freePackBuf gives an uploaded pack's buffer back for reuse. It is safe
// for concurrent use.
func freePackBuf(p *packBuf) {
	select {
	case freePacks[p.typ] <- p:
	default:
	}
}

// sealBound is an upper bound of the sealed size of an n-byte blob: the
// worst-case expansion of every codec (LZ4's n/255+16 is the largest),
// the codec byte and the sealing overhead.
func sealBound(n, overhead int) int {
	return n + n/128 + 64 + overhead
}
