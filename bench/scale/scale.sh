#!/usr/bin/env bash
# scale.sh: gobak vs restic (and borg with --tools) on many small files.
# Two generated deterministic trees (bench/scale/gentree, files of 0-2 KiB):
#   wide: sqrt(FILES) directories x sqrt(FILES) files (1,000 x 1,000 by default)
#   deep: 100 directories x FILES/100 files      (100 x 10,000 by default)
# Per tree and tool, on a fresh repository (encryption on, default
# compression): first backup, unchanged backup, listing of the archive
# (gobak list / restic ls / borg list, lines counted), full restore
# (checked by sha256 of every file unless --no-verify). Measured: wall and
# CPU seconds, peak RSS (GNU time), repository and cache bytes (du -sb of
# GOBAK_CACHE_DIR / RESTIC_CACHE_DIR / BORG_CACHE_DIR) after each step.
# Medians over --runs (default 1: it is slow).
#
# Usage: bench/scale/scale.sh [--files 1000000] [--runs 1]
#          [--tools gobak,restic] [--trees wide,deep] [--work DIR]
#          [--out FILE] [--keep] [--no-drop-caches] [--no-verify]
# (make scale ARGS="--files 200000").
set -euo pipefail

files=1000000
runs=1
tools=gobak,restic
trees=wide,deep
work=
out=
keep=0
drop=1
verify=1
while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift ;;
    --runs) runs=$2; shift ;;
    --tools) tools=$2; shift ;;
    --trees) trees=$2; shift ;;
    --work) work=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    --no-drop-caches) drop=0 ;;
    --no-verify) verify=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -r -a toolv <<< "$tools"
IFS=, read -r -a treev <<< "$trees"
for t in "${toolv[@]}"; do
  case $t in gobak|borg|restic) ;; *) echo "scale.sh: unknown tool $t" >&2; exit 2 ;; esac
done
for t in "${treev[@]}"; do
  case $t in wide|deep) ;; *) echo "scale.sh: unknown tree $t" >&2; exit 2 ;; esac
done
[ "$files" -ge 1000 ] || { echo "scale.sh: --files must be at least 1000" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${out:-$root/bench/results/scale-$(date -u +%F).txt}
work=${work:-$(mktemp -d /tmp/gobak-scale.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
case $out in /*) ;; *) out=$PWD/$out ;; esac # the script cd-s into $work

name=scale.sh
builds=(gentree ./bench/scale/gentree gendata ./bench/compare/gendata)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

raw=$work/raw.tsv
printf 'run\ttree\ttool\tstep\twall_s\tcpu_s\trss_kib\trepo_bytes\tcache_bytes\tlines\n' > "$raw"

dusb() { if [ -e "$1" ]; then du -sb "$1" | cut -f1; else echo 0; fi; }

# measure RUN TREE TOOL STEP REPO CMD...: run CMD under GNU time (stdout to
# $work/stdout), record a row.
measure() {
  local run=$1 tree=$2 tool=$3 step=$4 repo=$5
  shift 5
  local tf=$work/time.$tool.$step
  dropcaches
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" -- "$@" > "$work/stdout" 2> "$work/stderr"; then
    echo "scale.sh: $tool $step failed ($tree, run $run): $*" >&2
    tail -20 "$work/stderr" >&2
    exit 1
  fi
  local wall user sys rss repobytes cache lines=
  read -r wall user sys rss < <(tail -1 "$tf")
  repobytes=$(dusb "$repo")
  cache=$(dusb "$work/cache-$tool")
  [ "$step" = list ] && lines=$(wc -l < "$work/stdout")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tree" "$tool" "$step" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$rss" "$repobytes" "$cache" "$lines" >> "$raw"
  printf '  %-5s %-7s %-9s wall %8.2f s  cpu %8.2f s  rss %5d MiB  cache %5d MiB%s\n' "$tree" "$tool" "$step" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" $((rss >> 10)) $((cache >> 20)) "${lines:+  lines $lines}"
}

run_tool() {
  local run=$1 tree=$2 tool=$3
  local repo=$work/repo-$tool dest=$work/restore-$tool
  rm -rf "$repo" "$dest" "$work/cache-$tool" "$BORG_BASE_DIR" "$BORG_CONFIG_DIR" "$GOBAK_KEYS_DIR"
  mkdir -p "$dest"
  local bk=() ls=() rs=()
  case $tool in
    gobak)
      "$gobak" init --encryption repokey "$repo" > /dev/null
      bk=("$gobak" create "$repo::NAME" "$tree")
      ls=("$gobak" list "$repo::a1")
      rs=("$gobak" extract --destination "$dest" "$repo::a2") ;;
    borg)
      borg init -e repokey "$repo" > /dev/null 2>&1
      bk=(borg create "$repo::NAME" "$tree")
      ls=(borg list "$repo::a1")
      # shellcheck disable=SC2016 # expanded by the inner bash
      rs=(bash -c 'cd "$1" && shift && exec "$@"' _ "$dest" borg extract "$repo::a2") ;;
    restic)
      restic init --repository-version 2 -r "$repo" > /dev/null
      bk=(restic -r "$repo" backup "$tree")
      ls=(restic -r "$repo" ls latest)
      rs=(restic -r "$repo" restore latest --target "$dest") ;;
  esac
  cd "$work"
  measure "$run" "$tree" "$tool" first "$repo" "${bk[@]/NAME/a1}"
  measure "$run" "$tree" "$tool" unchanged "$repo" "${bk[@]/NAME/a2}"
  measure "$run" "$tree" "$tool" list "$repo" "${ls[@]}"
  measure "$run" "$tree" "$tool" restore "$repo" "${rs[@]}"
  if [ "$verify" = 1 ]; then
    local got=$dest/$tree
    [ -d "$got" ] || got=$dest$work/$tree
    if ! "$work/gendata" manifest "$got" | cmp -s - "$work/manifest.$tree"; then
      echo "scale.sh: RESTORE MISMATCH for $tool ($tree, run $run): $got differs from $work/$tree" >&2
      "$work/gendata" manifest "$got" | diff "$work/manifest.$tree" - | head -20 >&2 || true
      exit 1
    fi
    echo "  $tree $tool restore verified (sha256 of every file)"
  fi
  rm -rf "$repo" "$dest" "$work/cache-$tool"
}

# shape TREE: its directory and files-per-directory counts. wide is
# sqrt(FILES) x sqrt(FILES) (1,000 x 1,000 by default), deep is 100 x
# FILES/100, so the two differ at every --files.
shape() {
  if [ "$1" = wide ]; then
    local d
    d=$(awk -v n="$files" 'BEGIN { printf "%d", sqrt(n) + 0.5 }')
    echo "$d $((files / d))"
  else
    echo "100 $((files / 100))"
  fi
}

for tree in "${treev[@]}"; do
  cd "$work"
  rm -rf "$tree"
  read -r nd nf < <(shape "$tree")
  "$work/gentree" -dirs "$nd" -files "$nf" "$tree"
  n=$(find "$tree" -type f | wc -l)
  echo "tree $tree: $n files, $(($(du -sb "$tree" | cut -f1) >> 20)) MiB"
  echo "$tree $n $(du -sb "$tree" | cut -f1)" >> "$work/trees"
  if [ "$verify" = 1 ]; then "$work/gendata" manifest "$tree" > "$work/manifest.$tree"; fi
  for ((run = 1; run <= runs; run++)); do
    order=()
    for ((i = 0; i < ${#toolv[@]}; i++)); do
      order+=("${toolv[(i + run - 1) % ${#toolv[@]}]}")
    done
    echo "== $tree run $run of $runs: ${order[*]}"
    for t in "${order[@]}"; do
      run_tool "$run" "$tree" "$t"
    done
  done
  rm -rf "${work:?}/$tree"
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
{
  echo "# bench/scale/scale.sh --files $files --runs $runs --tools $tools --trees $trees"
  echo "date: $(date -u '+%F %T UTC'); machine: nproc $(nproc), $cpu, RAM $ram, $(uname -sr)"
  echo "versions: gobak (built from $root), $(borg --version), $(restic version | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)"
  while read -r tree n bytes; do
    read -r nd nf < <(shape "$tree")
    echo "tree $tree: $n files, $((bytes >> 20)) MiB ($nd dirs x $nf files)"
  done < "$work/trees"
  echo "settings: encryption repokey everywhere, default compression (gobak lz4, borg lz4, restic repo v2 auto = zstd)"
  echo "sync before every measured step; page cache dropped too: $dropped; restores verified by sha256: $([ "$verify" = 1 ] && echo yes || echo no)"
  echo "repo / cache MiB: du -sb after the step"
  echo
  python3 - "$raw" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = statistics.median
print("| tree | step | tool | wall s | CPU s | peak RSS MiB | repo MiB | cache MiB | lines |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
seen = []
for r in rows:
    k = (r["tree"], r["step"], r["tool"])
    if k not in seen:
        seen.append(k)
order = {"first": 0, "unchanged": 1, "list": 2, "restore": 3}
seen.sort(key=lambda k: (k[0] != "wide", order[k[1]], k[2]))
res = {}
for k in seen:
    rs = [r for r in rows if (r["tree"], r["step"], r["tool"]) == k]
    f = lambda key: med([float(r[key]) for r in rs])
    res[k] = (f("wall_s"), f("rss_kib") / 1024)
    lines = rs[0]["lines"] or ""
    print(f"| {k[0]} | {k[1]} | {k[2]} | {f('wall_s'):.2f} | {f('cpu_s'):.2f} | {f('rss_kib') / 1024:.0f} | "
          f"{f('repo_bytes') / 2**20:.0f} | {f('cache_bytes') / 2**20:.1f} | {lines} |")
g, r = res.get(("wide", "unchanged", "gobak")), res.get(("wide", "unchanged", "restic"))
if g and r:
    print()
    print(f"floor: wide-tree unchanged backup faster than restic with peak RSS <= restic's: "
          f"wall {g[0]:.2f} vs {r[0]:.2f} s, RSS {g[1]:.0f} vs {r[1]:.0f} MiB  "
          f"{'ok' if g[0] < r[0] and g[1] <= r[1] else 'SHORT'}")
PY
  echo
  echo "# raw runs"
  cat "$raw"
} > "$work/report.txt"
mkdir -p "$(dirname "$out")"
cp "$work/report.txt" "$out"
echo
cat "$out"
echo "written to $out"
failed=0
