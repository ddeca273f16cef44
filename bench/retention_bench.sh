#!/usr/bin/env bash
# retention_bench.sh: issue 4's measurement. A repository holds 100 daily
# archives (2024-01-01 onwards, 03:00 UTC) of a slowly changing ~1 GiB tree;
# then `gobak prune` removes about 30% of them and `gobak compact` gives the
# space back. Reports wall seconds and peak RSS (GNU time) of prune and
# compact, the bytes compact freed, and the repository size after compact
# against the ideal: a fresh repository that only ever held the kept
# archives.
#
# The tree changes are deterministic (seeded per day), and which days prune
# keeps depends only on the archive timestamps. So the script first asks
# prune (--dry-run) on a probe repository of 100 empty archives with the
# same timestamps which days it will keep, then walks the 100 tree states
# once, creating every day in the main repository and only the kept days in
# the ideal one. After the real prune it checks that it kept exactly those
# days.
#
# Usage: bench/retention_bench.sh [WORKDIR]   (run from anywhere; needs
# python3 and GNU time). Env: DAYS (100), KEEP (prune policy flags),
# DB_CHANGE: "scattered" (default: the 1% of db pages rewritten are spread
# over the whole file, so almost every content-defined chunk of the db
# changes every day) or "clustered" (the same 1% as one contiguous run of
# pages at a random place, so only a few chunks change).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/gobak-retention.XXXXXX)}
mkdir -p "$work"
data=$work/tree
repo=$work/repo
ideal=$work/repo-ideal
days=${DAYS:-100}
keep=${KEEP:---keep-daily 61 --keep-weekly 8 --keep-monthly 3}
dbchange=${DB_CHANGE:-scattered}
case $dbchange in scattered | clustered) ;; *) echo "DB_CHANGE must be scattered or clustered" >&2; exit 2 ;; esac
export GOBAK_PASSPHRASE=bench GOBAK_CACHE_DIR=$work/cache TZ=UTC

command -v /usr/bin/time >/dev/null || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 2; }
(cd "$root" && go build -o "$work/gobak" ./cmd/gobak)
gobak=$work/gobak

stamp() { date -u -d "2024-01-01 +$(($1 - 1)) days" +%Y-%m-%dT03:00:00Z; }

# --- which days does the policy keep? (timestamps only, empty archives)
probe=$work/repo-probe
rm -rf "$probe" "$work/empty"; mkdir -p "$work/empty"
"$gobak" init --compression lz4 "$probe" >/dev/null
for ((i = 1; i <= days; i++)); do
  "$gobak" create --timestamp "$(stamp "$i")" "$probe::day-$i" "$work/empty" >/dev/null
done
# shellcheck disable=SC2086
"$gobak" prune --dry-run --list $keep "$probe" > "$work/probe.list" 2>&1
grep '^Keeping' "$work/probe.list" | grep -o 'day-[0-9]*' | sort -t- -k2n > "$work/kept.expected"
nkeep=$(wc -l < "$work/kept.expected")
echo "policy '$keep' keeps $nkeep of $days archives (probe)"
[ "$nkeep" -gt 0 ] && [ "$nkeep" -lt "$days" ] || { cat "$work/probe.list"; exit 1; }
rm -rf "$probe" "$work/empty"

# --- the tree: libraries, the Go source tree, a database-like file
rm -rf "$data"; mkdir -p "$data"
cp -a /usr/lib/x86_64-linux-gnu "$data/lib"
cp -a /usr/local/go/src "$data/src"
python3 - "$data/db.bin" <<'PY'
import random, sys
rng = random.Random(42)
with open(sys.argv[1], "wb") as f:
    for i in range(32768):          # 256 MiB of 8 KiB pages, half random
        if i % 2:
            page = rng.randbytes(8192)
        else:
            page = (b"row %08d;" % i) * 630
            page += b"\0" * (8192 - len(page))
        f.write(page)
PY
mkdir -p "$data/new"
size=$(du -sb "$data" | cut -f1)
echo "tree: $((size >> 20)) MiB in $(find "$data" -type f | wc -l) files"

# change DAY: deterministic ~1% change of the tree for day DAY (> 1):
# rewrite 1% of the db pages (spread out or in one run, see DB_CHANGE),
# append a line to 0.5% of the .go files, add one 100 KiB random file,
# delete one file.
change() {
  python3 - "$data" "$1" "$dbchange" <<'PY'
import os, random, sys
top, day, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(1000 + day)
db = os.path.join(top, "db.bin")
n = os.path.getsize(db) // 8192
with open(db, "r+b") as f:
    if mode == "clustered":
        start = rng.randrange(n - n // 100)
        pages = range(start, start + n // 100)
    else:
        pages = sorted(rng.sample(range(n), n // 100))
    for p in pages:
        f.seek(p * 8192); f.write(rng.randbytes(8192))
files = []
for d, subdirs, names in os.walk(top):
    subdirs.sort()
    for name in sorted(names):
        p = os.path.join(d, name)
        if p != db and os.path.isfile(p) and not os.path.islink(p):
            files.append(p)
gofiles = [p for p in files if p.endswith(".go")]
for p in rng.sample(gofiles, max(1, len(gofiles) // 200)):
    with open(p, "a") as f:
        f.write("// day %d\n" % day)
with open(os.path.join(top, "new", "day-%03d.bin" % day), "wb") as f:
    f.write(rng.randbytes(100 * 1024))
os.remove(rng.choice(files))
PY
}

# --- 100 days into the main repository, the kept days into the ideal one
rm -rf "$repo" "$ideal" "$GOBAK_CACHE_DIR"
"$gobak" init --compression lz4 "$repo" >/dev/null
"$gobak" init --compression lz4 "$ideal" >/dev/null
: > "$work/create.times"
t0=$(date +%s)
for ((i = 1; i <= days; i++)); do
  [ "$i" -gt 1 ] && change "$i"
  ts=$(stamp "$i")
  /usr/bin/time -f '%e %M' -o "$work/time.create" "$gobak" create --timestamp "$ts" "$repo::day-$i" "$data" >/dev/null
  echo "$i $(cat "$work/time.create")" >> "$work/create.times"
  if grep -qx "day-$i" "$work/kept.expected"; then
    "$gobak" create --timestamp "$ts" "$ideal::day-$i" "$data" >/dev/null
  fi
  if [ $((i % 10)) -eq 0 ]; then echo "  day $i, $(($(date +%s) - t0)) s"; fi
done
echo "creates: $(($(date +%s) - t0)) s in all"

# --- prune and compact, measured
measure() { # name command...
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/time.$name" "$@" > "$work/log.$name" 2>&1 ||
    { echo "$name failed:"; tail -5 "$work/log.$name"; exit 1; }
}
before_n=$("$gobak" list "$repo" | wc -l)
before_b=$(du -sb "$repo" | cut -f1)
# shellcheck disable=SC2086
measure prune "$gobak" prune --list $keep "$repo"
after_n=$("$gobak" list "$repo" | wc -l)
"$gobak" list "$repo" | grep -o '^day-[0-9]*' | sort -t- -k2n > "$work/kept.actual"
if ! cmp -s "$work/kept.expected" "$work/kept.actual"; then
  echo "prune kept other archives than the probe said:"; diff "$work/kept.expected" "$work/kept.actual" || true; exit 1
fi
pruned_b=$(du -sb "$repo" | cut -f1)
sync
measure compact "$gobak" compact "$repo"
after_b=$(du -sb "$repo" | cut -f1)
ideal_b=$(du -sb "$ideal" | cut -f1)
ideal_n=$("$gobak" list "$ideal" | wc -l)

# --- report
read -r p_s p_k < "$work/time.prune"
read -r c_s c_k < "$work/time.compact"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo
echo "tree $((size >> 20)) MiB, $days archives, db change: $dbchange, policy: $keep"
awk '{ s += $2; if ($3 > m) m = $3 } NR == 1 { f = $2 } END {
  printf "create: first %.2f s, later ones mean %.2f s, peak RSS %d MiB\n", f, (s - f) / (NR - 1), m / 1024 }' "$work/create.times"
echo "archives: $before_n before prune, $after_n after ($((before_n - after_n)) pruned, $((100 * (before_n - after_n) / before_n))%); ideal repository: $ideal_n"
printf '%-8s %8s %13s\n' step "wall s" "peak RSS MiB"
printf '%-8s %8s %13d\n' prune "$p_s" $((p_k / 1024))
printf '%-8s %8s %13d\n' compact "$c_s" $((c_k / 1024))
echo
printf '%-34s %12s %10s\n' "repository (du -sb)" bytes MiB
printf '%-34s %12d %10s\n' "before prune" "$before_b" "$(mib "$before_b")"
printf '%-34s %12d %10s\n' "after prune (before compact)" "$pruned_b" "$(mib "$pruned_b")"
printf '%-34s %12d %10s\n' "after compact" "$after_b" "$(mib "$after_b")"
printf '%-34s %12d %10s\n' "ideal (fresh, kept archives only)" "$ideal_b" "$(mib "$ideal_b")"
echo
freed=$((pruned_b - after_b)); ideal_freed=$((pruned_b - ideal_b))
awk -v f="$freed" -v i="$ideal_freed" -v a="$after_b" -v d="$ideal_b" 'BEGIN {
  printf "freed by compact: %.1f MiB; pruned repository minus ideal: %.1f MiB\n", f/1048576, i/1048576
  printf "after compact / ideal size: %.4f (%+.1f MiB)\n", a/d, (a-d)/1048576 }'
echo "(each repository draws its own chunker polynomial, so the fresh repository"
echo " cuts the same files into other chunks and dedups a little better or worse:"
echo " the ideal is only good to a few percent either way. compact's own 'still"
echo " unused' figure below, bytes of unreachable blobs left in packs, is exact)"
echo "compact said:"; sed 's/^/  /' "$work/log.compact"
