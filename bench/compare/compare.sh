#!/usr/bin/env bash
# compare.sh: gobak vs borg 1.2 vs restic 0.14, side by side, on a generated
# deterministic ~2 GiB mixed dataset (bench/compare/gendata: source-like
# text, binary-like files, an 8 KiB-page database file, a sparse disk image).
#
# Per tool, with encryption on and lz4-class compression, on a fresh
# repository: first backup, unchanged backup, backup after a change (2% of
# db pages and source files rewritten in place, 100 KiB inserted into the
# middle of the image), full restore of the latest archive (every file's
# sha256 checked against the generator's manifest; a mismatch fails the
# script), full data verification. Measured: wall and CPU (user+sys)
# seconds and peak RSS (GNU time), repository bytes after each backup and
# the dedup ratio (apparent bytes backed up so far / repository bytes).
# Tools are interleaved (the order rotates every run) and medians over the
# runs are reported; gobak's wall time is also given as a ratio to the
# fastest other tool of the same run (median of the per-run ratios).
#
# Usage: bench/compare/compare.sh [--runs N] [--tools gobak,borg,restic]
#          [--size 2G] [--seed N] [--work DIR] [--out FILE] [--keep]
#          [--no-drop-caches] [--sparse]
# (make compare ARGS="--runs 1"). Needs root for apt-get and drop_caches.
set -euo pipefail

runs=3
tools=gobak,borg,restic
size=2G
seed=1
work=
out=
keep=0
drop=1
sparse=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --tools) tools=$2; shift ;;
    --size) size=$2; shift ;;
    --seed) seed=$2; shift ;;
    --work) work=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    --no-drop-caches) drop=0 ;;
    --sparse) sparse=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -r -a toolv <<< "$tools"
for t in "${toolv[@]}"; do
  case $t in gobak|borg|restic) ;; *) echo "compare.sh: unknown tool $t" >&2; exit 2 ;; esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
day=$(date -u +%F)
out=${out:-$root/bench/results/compare-$day.txt}
work=${work:-$(mktemp -d /tmp/gobak-compare.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
case $out in /*) ;; *) out=$PWD/$out ;; esac # the script cd-s into $work
data=$work/data

name=compare.sh
builds=(gendata ./bench/compare/gendata)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
gen() { "$work/gendata" -seed "$seed" -size "$size" "$@"; }

# --- dataset and the manifests of its two states
echo "generating the dataset ($size, seed $seed) in $data"
rm -rf "$data"
gen init "$data"
gen manifest "$data" > "$work/manifest.initial"
size0=$(du -sb "$data" | cut -f1)
gen change "$data"
gen manifest "$data" > "$work/manifest.changed"
size1=$(du -sb "$data" | cut -f1)
gen reset "$data"
gen manifest "$data" | cmp -s - "$work/manifest.initial" || { echo "compare.sh: gendata reset is not deterministic" >&2; exit 1; }
nfiles=$(wc -l < "$work/manifest.initial")
disk0=$(du -s --block-size=1 "$data" | cut -f1)
echo "dataset: $((size0 >> 20)) MiB apparent, $((disk0 >> 20)) MiB on disk, $nfiles files"

raw=$work/raw.tsv
printf 'run\ttool\tstep\twall_s\tcpu_s\trss_kib\trepo_bytes\tbacked_bytes\n' > "$raw"

# measure RUN TOOL STEP REPO BACKED CMD...: run CMD under GNU time, record a row.
measure() {
  local run=$1 tool=$2 step=$3 repo=$4 backed=$5
  shift 5
  local tf=$work/time.$tool.$step log=$work/log.$tool.$step
  dropcaches
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" -- "$@" > "$log" 2>&1; then
    echo "compare.sh: $tool $step failed (run $run): $*" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  local wall user sys rss repobytes
  read -r wall user sys rss < <(tail -1 "$tf")
  repobytes=$(du -sb "$repo" | cut -f1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$step" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$rss" "$repobytes" "$backed" >> "$raw"
  printf '  %-7s %-9s wall %7.2f s  rss %5d MiB  repo %6d MiB\n' "$tool" "$step" "$wall" $((rss >> 10)) $((repobytes >> 20))
}

# restored_root DEST: where the data directory landed in a restore.
restored_root() {
  if [ -d "$1/data" ]; then echo "$1/data"; else echo "$1$data"; fi
}

run_tool() {
  local run=$1 tool=$2
  local repo=$work/repo-$tool dest=$work/restore-$tool
  rm -rf "$repo" "$dest" "$work/cache-$tool" "$BORG_BASE_DIR" "$BORG_CONFIG_DIR" "$GOBAK_KEYS_DIR"
  mkdir -p "$dest"
  gen reset "$data"
  local bk=() rs=() vf=()
  local sp=()
  [ "$sparse" = 1 ] && sp=(--sparse)
  case $tool in
    gobak)
      "$gobak" init --encryption repokey "$repo" > /dev/null
      bk=("$gobak" create "$repo::NAME" data)
      rs=("$gobak" extract "${sp[@]}" --destination "$dest" "$repo::a3")
      vf=("$gobak" check --verify-data "$repo") ;;
    borg)
      borg init -e repokey "$repo" > /dev/null 2>&1
      bk=(borg create --compression lz4 "$repo::NAME" data)
      # shellcheck disable=SC2016 # expanded by the inner bash
      rs=(bash -c 'cd "$1" && shift && exec "$@"' _ "$dest" borg extract "${sp[@]}" "$repo::a3")
      vf=(borg check --verify-data "$repo") ;;
    restic)
      restic init --repository-version 2 -r "$repo" > /dev/null
      bk=(restic -r "$repo" backup --compression auto data)
      rs=(restic -r "$repo" restore latest --target "$dest")
      vf=(restic -r "$repo" check --read-data) ;;
  esac
  cd "$work"
  measure "$run" "$tool" first "$repo" "$size0" "${bk[@]/NAME/a1}"
  measure "$run" "$tool" unchanged "$repo" $((2 * size0)) "${bk[@]/NAME/a2}"
  gen change "$data"
  measure "$run" "$tool" changed "$repo" $((2 * size0 + size1)) "${bk[@]/NAME/a3}"
  measure "$run" "$tool" restore "$repo" 0 "${rs[@]}"
  if ! gen manifest "$(restored_root "$dest")" | cmp -s - "$work/manifest.changed"; then
    echo "compare.sh: RESTORE MISMATCH for $tool (run $run): $(restored_root "$dest") differs from the source" >&2
    gen manifest "$(restored_root "$dest")" | diff "$work/manifest.changed" - | head -20 >&2 || true
    exit 1
  fi
  echo "  $tool restore verified: $nfiles files, sha256 match"
  measure "$run" "$tool" verify "$repo" 0 "${vf[@]}"
  rm -rf "$repo" "$dest" "$work/cache-$tool"
}

for ((run = 1; run <= runs; run++)); do
  order=()
  for ((i = 0; i < ${#toolv[@]}; i++)); do
    order+=("${toolv[(i + run - 1) % ${#toolv[@]}]}")
  done
  echo "== run $run of $runs: ${order[*]}"
  for t in "${order[@]}"; do
    run_tool "$run" "$t"
  done
done

# --- report
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
{
  echo "# bench/compare/compare.sh --runs $runs --tools $tools --size $size --seed $seed$([ "$sparse" = 1 ] && echo ' --sparse')"
  echo "date: $(date -u '+%F %T UTC'); machine: nproc $(nproc), $cpu, RAM $ram, $(uname -sr)"
  echo "versions: gobak (built from $root), $(borg --version), $(restic version | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)"
  echo "dataset: $((size0 >> 20)) MiB apparent ($((disk0 >> 20)) MiB on disk, holes in disk.img), $nfiles files; changed state $((size1 >> 20)) MiB"
  echo "settings: gobak init --encryption repokey (default lz4); borg init -e repokey, create --compression lz4;"
  echo "  restic init --repository-version 2, backup --compression auto (= zstd fastest level: restic 0.14 has no lz4)."
  echo "  restores: $([ "$sparse" = 1 ] && echo 'gobak and borg with --sparse (restic 0.14 has no --sparse)' || echo 'not sparse (restic 0.14 cannot restore holes; all tools write full files)')."
  echo "sync before every measured step; page cache dropped too: $dropped"
  echo "repo MiB: repository size after the step (after the last backup for restore/verify); dedup = apparent bytes backed up so far / repo bytes"
  echo "gobak/best: gobak's wall time over the fastest other tool's in the same run, median over runs"
  echo
  python3 - "$raw" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
steps = ["first", "unchanged", "changed", "restore", "verify"]
tools = [t for t in ["gobak", "borg", "restic"] if any(r["tool"] == t for r in rows)]
med = lambda xs: statistics.median(xs) if xs else float("nan")
def sel(tool, step, key):
    return [float(r[key]) for r in rows if r["tool"] == tool and r["step"] == step]
def wall(run, tool, step):
    for r in rows:
        if r["run"] == run and r["tool"] == tool and r["step"] == step:
            return float(r["wall_s"])
runs = sorted({r["run"] for r in rows}, key=int)
ratio = {}
others = [t for t in tools if t != "gobak"]
if "gobak" in tools and others:
    for s in steps:
        rs = []
        for run in runs:
            g = wall(run, "gobak", s)
            o = [w for w in (wall(run, t, s) for t in others) if w is not None]
            if g is not None and o and min(o) > 0:
                rs.append(g / min(o))
        ratio[s] = med(rs)
print("| step | tool | wall s | CPU s | peak RSS MiB | repo MiB | dedup ratio | gobak/best wall |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
summary = {}
for s in steps:
    for t in tools:
        w, c, m = med(sel(t, s, "wall_s")), med(sel(t, s, "cpu_s")), med(sel(t, s, "rss_kib")) / 1024
        repo = med(sel(t, s, "repo_bytes"))
        backed = med(sel(t, s, "backed_bytes"))
        dd = f"{backed / repo:.2f}" if backed > 0 and repo > 0 else "-"
        rt = f"{ratio[s]:.2f}" if t == "gobak" and s in ratio else ""
        summary[(t, s)] = (w, m, repo)
        print(f"| {s} | {t} | {w:.2f} | {c:.2f} | {m:.0f} | {repo / 2**20:.0f} | {dd} | {rt} |")
if "gobak" in tools:
    print()
    print("floors (gobak):")
    for s in ["first", "unchanged", "restore", "verify"]:
        if s in ratio:
            r = ratio[s]
            print(f"  {s:<10} wall <= 0.75 x fastest other: {r:.2f}  {'ok' if r <= 0.75 else 'SHORT'}")
    if "borg" in tools:
        g, b = summary[("gobak", "changed")][2], summary[("borg", "changed")][2]
        print(f"  repo after 3 backups <= borg lz4: {g / 2**20:.0f} vs {b / 2**20:.0f} MiB  {'ok' if g <= b else 'SHORT'}")
    m = summary[("gobak", "first")][1]
    print(f"  first backup peak RSS < 300 MiB: {m:.0f} MiB  {'ok' if m < 300 else 'SHORT'}")
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
