#!/usr/bin/env bash
# Run every `func FuzzXxx` in the module for a short time each.
# Usage: scripts/fuzz.sh [FUZZTIME]
#
# Minimization of a new interesting input is capped (-fuzzminimizetime),
# because with a short -fuzztime the Go fuzzer can otherwise stop with
# "context deadline exceeded" while minimizing: an infrastructure timeout,
# not a finding. Such a run is retried once if it wrote no crash input; a
# real crash (a new file under testdata/fuzz) always fails.
set -euo pipefail
fuzztime=${1:-5s}
cd "$(dirname "$0")/.."
fail=0
count() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
while read -r file; do
  pkg=./$(dirname "$file")
  while read -r fn; do
    echo "== fuzz $pkg $fn ($fuzztime)"
    corpus=$(dirname "$file")/testdata/fuzz/$fn
    before=$(count "$corpus")
    for attempt in 1 2; do
      log=$(mktemp)
      if go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$fuzztime" -fuzzminimizetime=10x "$pkg" >"$log" 2>&1; then
        cat "$log"; rm -f "$log"; break
      fi
      cat "$log"
      after=$(count "$corpus")
      if [ "$attempt" = 1 ] && [ "$after" = "$before" ] && grep -q "context deadline exceeded" "$log"; then
        echo "== $fn: fuzzer timed out minimizing (no crash input); retrying once"
        rm -f "$log"; continue
      fi
      rm -f "$log"; fail=1; break
    done
  done < <(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //')
done < <(grep -rl --include='*_test.go' '^func Fuzz' pkg cmd | sort)
exit $fail
