package s3_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy is a TCP proxy between the backend and the server that can slow
// down, corrupt or cut the traffic, to test failures mid-transfer.
type proxy struct {
	Addr string // 127.0.0.1:port to give the backend as Endpoint

	up, down atomic.Int64 // bytes forwarded to the server and back

	proxyConfig
	dropReplies atomic.Int32

	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

// proxyConfig says what a proxy does to the traffic.
type proxyConfig struct {
	delay     time.Duration // sleep after each chunk of up to 32 KiB, both ways
	corrupt   bool          // flip the byte at corruptAt of each upstream connection
	corruptAt int64
	// dropReplies is how many connections are closed instead of relaying
	// the server's first reply: the request was done, its answer lost.
	dropReplies int32
}

// startProxy starts a proxy to target; it stops when t ends.
func startProxy(t testing.TB, target string, cfg proxyConfig) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{Addr: ln.Addr().String(), ln: ln, proxyConfig: cfg}
	p.dropReplies.Store(cfg.dropReplies)
	go p.serve(target)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) serve(target string) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.pipe(s, c, &p.up, true)
		go p.pipe(c, s, &p.down, false)
	}
}

// pipe copies src to dst until either fails, then closes both.
func (p *proxy) pipe(dst, src net.Conn, count *atomic.Int64, upstream bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	var off int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !upstream && off == 0 && p.dropReplies.Load() > 0 && p.dropReplies.Add(-1) >= 0 {
				return // the server has answered; the client never hears it
			}
			if upstream && p.corrupt && p.corruptAt >= off && p.corruptAt < off+int64(n) {
				buf[p.corruptAt-off] ^= 0x55
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			off += int64(n)
			count.Add(int64(n))
			if p.delay > 0 {
				time.Sleep(p.delay)
			}
		}
		if err != nil {
			return
		}
	}
}

// waitFor waits until cond holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}
