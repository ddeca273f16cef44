package s3_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain raises the default -parallel: the conformance subtests mostly
// wait for the server, not for the CPU. An explicit -parallel flag is
// respected.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}
