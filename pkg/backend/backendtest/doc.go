// Package backendtest is the conformance suite every backend.Backend
// implementation must pass (local, mem, and later sftp and s3), plus
// shared benchmarks.
//
// Use it from an implementation's tests:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) })
//	}
//
// The suite checks the contract written on backend.Backend: atomic,
// write-once Save; ranged Load; Stat; List; Remove; handle validation;
// the sentinel errors; context cancellation; and concurrent use.
package backendtest
