#!/usr/bin/env bash
# archive_compare.sh: gobak vs borg vs restic on the same ~1.2 GiB of real
# files (issue 3's measurement). For each tool: first backup, unchanged
# backup, backup after a 2% in-place change, full restore; wall seconds,
# MB/s of the dataset and peak RSS (GNU time), repository size, and the
# dedup ratio (data backed up over three runs / repository size).
#
# Usage: bench/archive_compare.sh [WORKDIR]   (needs borgbackup, restic:
# apt-get install borgbackup restic; run from the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/gobak-compare.XXXXXX)}
mkdir -p "$work"
data=$work/data
export GOBAK_PASSPHRASE=bench BORG_PASSPHRASE=bench RESTIC_PASSWORD=bench
export GOBAK_CACHE_DIR=$work/cache-gobak BORG_CACHE_DIR=$work/cache-borg BORG_BASE_DIR=$work/borgbase
export RESTIC_CACHE_DIR=$work/cache-restic BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export GOBAK_TEST_FAST_KDF=0

for t in borg restic /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install borgbackup restic time" >&2; exit 2; }
done
(cd "$root" && go build -o "$work/gobak" ./cmd/gobak)
gobak=$work/gobak

# --- dataset: a source tree, binaries and libraries, docs, a database-like file
if [ ! -d "$data" ]; then
  mkdir -p "$data"
  cp -a /usr/local/go/src "$data/src"
  cp -a /usr/lib/x86_64-linux-gnu "$data/lib"
  cp -a /usr/share/doc "$data/doc"
  cp -a /usr/lib/gcc "$data/gcc"
  # 256 MiB of 8 KiB "pages": half random, half repetitive text.
  python3 - "$data/db.bin" <<'PY'
import random, sys
rng = random.Random(42)
with open(sys.argv[1], "wb") as f:
    for i in range(32768):
        if i % 2:
            page = rng.randbytes(8192)
        else:
            page = (b"row %08d;" % i) * 630
            page += b"\0" * (8192 - len(page))
        f.write(page)
PY
fi
size=$(du -sb "$data" | cut -f1)
echo "dataset: $((size>>20)) MiB in $(find "$data" -type f | wc -l) files ($data)"

change() { # rewrite 2% of the db pages in place and touch 2% of the source files
  python3 - "$data/db.bin" <<'PY'
import random, sys, os
rng = random.Random(7)
n = os.path.getsize(sys.argv[1]) // 8192
with open(sys.argv[1], "r+b") as f:
    for p in rng.sample(range(n), n * 2 // 100):
        f.seek(p * 8192); f.write(rng.randbytes(8192))
PY
  find "$data/src" -name '*.go' | sort | awk 'NR % 50 == 0' | while read -r f; do echo "// changed" >> "$f"; done
}

results=$work/results.tsv
: > "$results"
measure() { # tool step command-string
  local tool=$1 step=$2 cmd=$3
  local out=$work/time.$tool.$step
  /usr/bin/time -f '%e %M' -o "$out" bash -c "$cmd" > "$work/log.$tool.$step" 2>&1 || { echo "$tool $step failed:"; tail -5 "$work/log.$tool.$step"; exit 1; }
  read -r secs rss < <(tail -1 "$out")
  printf '%s\t%s\t%s\t%s\n' "$tool" "$step" "$secs" "$rss" >> "$results"
}

run_tool() {
  local tool=$1 repo=$work/repo-$1 restore=$work/restore-$1
  rm -rf "$repo" "$restore" "$work/cache-$1"; mkdir -p "$restore"
  local bk rs
  case $tool in
    gobak)  "$gobak" init --compression lz4 "$repo" >/dev/null
            bk="'$gobak' create --compression lz4 '$repo::NAME' '$data'"
            rs="cd '$restore' && '$gobak' extract '$repo::run3'" ;;
    borg)   borg init -e repokey "$repo" >/dev/null
            bk="borg create --compression lz4 '$repo::NAME' '$data'"
            rs="cd '$restore' && borg extract '$repo::run3'" ;;
    restic) restic init -r "$repo" >/dev/null
            bk="restic -r '$repo' backup --compression auto '$data'"
            rs="restic -r '$repo' restore latest --target '$restore'" ;;
  esac
  measure "$tool" first "${bk//NAME/run1}"
  measure "$tool" unchanged "${bk//NAME/run2}"
  change
  measure "$tool" changed "${bk//NAME/run3}"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  measure "$tool" restore "$rs"
  du -sb "$repo" | cut -f1 > "$work/reposize.$tool"
  # undo the change so the next tool sees the same three states
  rm -rf "$data"; cp -a "$work/data.orig" "$data"
  rm -rf "$restore"
}

rm -rf "$work/data.orig"; cp -a "$data" "$work/data.orig"
for tool in gobak borg restic; do
  echo "== $tool"
  run_tool "$tool"
done

printf '\n%-8s %-10s %8s %9s %9s\n' tool step seconds "MB/s" "RSS MiB"
while IFS=$'\t' read -r tool step secs rss; do
  mbps=$(awk -v s="$size" -v t="$secs" 'BEGIN{ if (t > 0) printf "%.0f", s/1e6/t; else print "-" }')
  printf '%-8s %-10s %8s %9s %9d\n' "$tool" "$step" "$secs" "$mbps" $((rss/1024))
done < "$results"
echo
for tool in gobak borg restic; do
  rs=$(cat "$work/reposize.$tool")
  awk -v t="$tool" -v r="$rs" -v s="$size" 'BEGIN{ printf "%-8s repository %6.0f MiB, dedup ratio (3 x %d MiB backed up / repository) %.2f\n", t, r/1048576, s/1048576, 3*s/r }'
done
echo
echo "gobak wall time / fastest of borg and restic (below 1.00: gobak is faster)"
for step in first unchanged changed restore; do
  awk -F'\t' -v s="$step" '$2 == s { t[$1] = $3 } END {
    best = t["borg"]; who = "borg"
    if (t["restic"] < best) { best = t["restic"]; who = "restic" }
    printf "  %-10s %.2f  (gobak %.2fs, %s %.2fs)\n", s, t["gobak"] / best, t["gobak"], who, best }' "$results"
done
