package s3

import (
	"context"
	"net"
	"net/http"
	"time"
)

// maxIdleConns is how many idle connections to the endpoint are kept for
// reuse: enough for the repository's parallel uploads and downloads.
const maxIdleConns = 32

// newTransport returns the HTTP transport of a backend: connections that
// fail after ioTimeout without progress, dialing bounded by
// connectTimeout, no proxy (the package reads no environment) and no
// transparent decompression (objects are returned byte for byte).
func newTransport(connectTimeout, ioTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: connectTimeout, KeepAlive: 15 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleTimeoutConn{Conn: c, timeout: ioTimeout}, nil
		},
		TLSHandshakeTimeout:   connectTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
}

// idleTimeoutConn is a net.Conn whose reads and writes fail once the
// connection has made no progress in either direction for timeout. Each
// Read or Write pushes the deadline of both directions forward, so a
// long upload keeps the pending read of the response alive, and a server
// that stops answering (or a dead network path) is detected.
type idleTimeoutConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleTimeoutConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		_ = c.Conn.SetDeadline(time.Now().Add(c.timeout))
	}
	return n, err
}

func (c *idleTimeoutConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
