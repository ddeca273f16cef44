// Package mem provides an in-memory backend.Backend for unit tests, and
// Faulty, a wrapper around any Backend that injects errors so tests can
// simulate a full disk, a dropped connection or a flaky server.
//
// Nothing in this package is durable; it is not meant for real
// repositories.
package mem
