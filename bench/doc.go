// Package bench holds gobak's benchmarks: Go benchmarks of the engine's hot
// paths (bench_test.go), the enginebench program that compares SaveBlob
// with the sum-of-parts ceiling, and, later, the scripts that run gobak,
// borg and restic side by side.
//
// The data is real: files read from /usr/lib and /usr/share (binaries,
// libraries, text, docs), in a fixed order so runs are comparable.
package bench
