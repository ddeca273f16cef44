package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestInfoCacheStatsAddUp: cache.stats counts file content as borg's
// chunk index does, so two archives of the same data reference every
// unique chunk twice, and the deduplication ratio is 2.
func TestInfoCacheStatsAddUp(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	repoPath := c.initRepo("repo")
	src := c.path("src")
	writeFiles(t, src, map[string]string{"a": strings.Repeat("x", 300000), "b/c": "small"})
	time.Sleep(1100 * time.Millisecond) // older than the backup, so the second run reuses them
	c.ok(withPass, "create", repoPath+"::one", src)
	c.ok(withPass, "create", repoPath+"::two", src)
	var out struct {
		Cache struct {
			Stats cacheStatsJSON `json:"stats"`
		} `json:"cache"`
		Gobak struct {
			DeduplicationRatio float64 `json:"deduplication_ratio"`
		} `json:"gobak"`
	}
	res := c.ok(withPass, "info", "--json", repoPath)
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	s := out.Cache.Stats
	if s.TotalUniqueChunks == 0 || s.TotalChunks != 2*s.TotalUniqueChunks ||
		s.TotalSize != 2*s.UniqueSize || s.TotalCSize != 2*s.UniqueCSize || s.UniqueSize != 300005 {
		t.Errorf("cache.stats do not add up for two identical archives: %+v", s)
	}
	if out.Gobak.DeduplicationRatio != 2 {
		t.Errorf("deduplication ratio %v, want 2", out.Gobak.DeduplicationRatio)
	}
}
