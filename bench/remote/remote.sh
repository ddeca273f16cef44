#!/usr/bin/env bash
# remote.sh: gobak vs borg 1.2 vs restic 0.14 backing up to remote
# repositories, side by side: SFTP/ssh (a private OpenSSH sshd on
# 127.0.0.1) and S3 (a private versitygw on 127.0.0.1, posix backend).
# Both servers run on this machine, are started by the script on free
# ports and are killed when it exits.
#
# Targets and repository locations:
#   sftp  gobak  sftp://root@127.0.0.1:PORT/DIR     (GOBAK_RSH = the ssh command)
#         borg   ssh://root@127.0.0.1:PORT/DIR      (BORG_RSH; borg serve runs on the "server")
#         restic sftp:root@127.0.0.1:/DIR           (-o sftp.command="ssh ... -s sftp")
#   s3    gobak  s3+http://127.0.0.1:PORT/bench/gobak
#         restic s3:http://127.0.0.1:PORT/bench/restic
#         borg   has no S3 backend: not run (the table says so)
# Every ssh uses only the script's own client key and known_hosts.
#
# Per target and tool, with encryption on and lz4-class compression (as
# bench/compare/compare.sh: gobak repokey + lz4, borg repokey + lz4,
# restic repository v2 + --compression auto), on a fresh repository: first
# backup, unchanged backup, full restore of the second archive (every
# file's sha256 checked against the generator's manifest; a mismatch fails
# the script). The dataset is bench/compare/gendata's. Measured: wall,
# client CPU (user+sys, including the ssh client it runs) and peak RSS
# (GNU time), server CPU (the sshd or versitygw process and its reaped
# children: sftp-server work, borg serve, ssh encryption, S3 handling),
# and repository bytes (du -sb of the server-side directory). Caches are
# dropped before every step (lib.sh dropcaches). The order of targets and
# tools rotates every run; medians over the runs are reported, with
# gobak's wall time as a ratio to the fastest other tool of the same run
# and target (median of the per-run ratios).
#
# Usage: bench/remote/remote.sh [--runs 3] [--size 512M] [--seed 1]
#          [--targets sftp,s3] [--tools gobak,borg,restic] [--work DIR]
#          [--out FILE] [--keep] [--no-drop-caches]
# Needs root (apt-get, drop_caches, sshd, root login over ssh). Installs
# borgbackup, restic, time, openssh-server and openssh-client if missing,
# and versitygw (go install ...@v1.8.0) if not in PATH or GOPATH/bin.
set -euo pipefail

runs=3
size=512M
seed=1
targets=sftp,s3
tools=gobak,borg,restic
work=
out=
keep=0
drop=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --size) size=$2; shift ;;
    --seed) seed=$2; shift ;;
    --targets) targets=$2; shift ;;
    --tools) tools=$2; shift ;;
    --work) work=$2; shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    --no-drop-caches) drop=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "remote.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -r -a targetv <<< "$targets"
IFS=, read -r -a toolv <<< "$tools"
for t in "${targetv[@]}"; do
  case $t in sftp|s3) ;; *) echo "remote.sh: unknown target $t" >&2; exit 2 ;; esac
done
for t in "${toolv[@]}"; do
  case $t in gobak|borg|restic) ;; *) echo "remote.sh: unknown tool $t" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "remote.sh: run as root (sshd, root login, drop_caches)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
day=$(date -u +%F)
out=${out:-$root/bench/results/remote-$day.txt}
case $out in /*) ;; *) out=$PWD/$out ;; esac # the script cd-s into $work
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
date_start=$(date -u '+%F %T UTC')
t_start=$SECONDS

# --- OpenSSH and versitygw (lib.sh installs borg, restic and time)
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null
fi
versitygw=$(command -v versitygw || true)
if [ -z "$versitygw" ]; then
  versitygw=$(go env GOPATH)/bin/versitygw
  if [ ! -x "$versitygw" ]; then
    echo "installing versitygw v1.8.0"
    go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
  fi
fi

work=${work:-$(mktemp -d /tmp/gobak-remote.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
data=$work/data

name=remote.sh
builds=(gendata ./bench/compare/gendata)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
gen() { "$work/gendata" -seed "$seed" -size "$size" "$@"; }

# --- servers: started below, killed on exit before lib.sh's cleanup
sshd_pid=
s3_pid=
stop_servers() {
  local p
  for p in $sshd_pid $s3_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  sshd_pid='' s3_pid=''
}
trap 'stop_servers; cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

freeport() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# waitport PORT PID: wait up to 10 s for PORT to accept connections while PID lives.
waitport() {
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

srv=$work/server
mkdir -p "$srv/sftp" "$srv/s3" /run/sshd
ssh-keygen -q -t ed25519 -N '' -C remote-bench-host -f "$srv/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C remote-bench-client -f "$srv/id_ed25519"
cp "$srv/id_ed25519.pub" "$srv/authorized_keys"
for attempt in 1 2 3; do
  sshd_port=$(freeport)
  cat > "$srv/sshd_config" <<EOF
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $srv/host_ed25519
AuthorizedKeysFile $srv/authorized_keys
PidFile $srv/sshd.pid
Subsystem sftp internal-sftp
PermitRootLogin yes
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 100
MaxSessions 100
LogLevel ERROR
EOF
  /usr/sbin/sshd -D -e -f "$srv/sshd_config" 2>> "$srv/sshd.log" &
  sshd_pid=$!
  waitport "$sshd_port" "$sshd_pid" && break
  kill "$sshd_pid" 2>/dev/null || true
  wait "$sshd_pid" 2>/dev/null || true
  sshd_pid=
  [ "$attempt" = 3 ] && { echo "remote.sh: sshd did not start:" >&2; cat "$srv/sshd.log" >&2; exit 1; }
done
echo "[127.0.0.1]:$sshd_port $(cut -d' ' -f1-2 "$srv/host_ed25519.pub")" > "$srv/known_hosts"
ssh_cmd="ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=$srv/id_ed25519"
ssh_cmd+=" -o UserKnownHostsFile=$srv/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes"
export GOBAK_RSH=$ssh_cmd BORG_RSH=$ssh_cmd
# shellcheck disable=SC2086 # ssh_cmd is a command line
$ssh_cmd -p "$sshd_port" root@127.0.0.1 true || { echo "remote.sh: ssh login to the private sshd failed" >&2; cat "$srv/sshd.log" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=benchaccess AWS_SECRET_ACCESS_KEY=benchsecret0123456789
for attempt in 1 2 3; do
  s3_port=$(freeport)
  "$versitygw" --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" \
    --port "127.0.0.1:$s3_port" --quiet posix "$srv/s3" >> "$srv/versitygw.log" 2>&1 &
  s3_pid=$!
  waitport "$s3_port" "$s3_pid" && break
  kill "$s3_pid" 2>/dev/null || true
  wait "$s3_pid" 2>/dev/null || true
  s3_pid=
  [ "$attempt" = 3 ] && { echo "remote.sh: versitygw did not start:" >&2; cat "$srv/versitygw.log" >&2; exit 1; }
done
bucket=bench
echo "sshd on 127.0.0.1:$sshd_port (pid $sshd_pid), versitygw on 127.0.0.1:$s3_port (pid $s3_pid)"

# srvcpu PID: CPU seconds of PID and its reaped children (utime, stime,
# cutime, cstime of /proc/PID/stat), after its per-connection children
# have exited (up to 5 s).
clk=$(getconf CLK_TCK)
srvcpu() {
  local i
  for ((i = 0; i < 100; i++)); do
    pgrep -P "$1" >/dev/null || break
    sleep 0.05
  done
  sed 's/^.*) //' "/proc/$1/stat" | awk -v c="$clk" '{ printf "%.2f", ($12 + $13 + $14 + $15) / c }'
}

# --- dataset
echo "generating the dataset ($size, seed $seed) in $data"
rm -rf "$data"
gen init "$data"
gen manifest "$data" > "$work/manifest"
size0=$(du -sb "$data" | cut -f1)
disk0=$(du -s --block-size=1 "$data" | cut -f1)
nfiles=$(wc -l < "$work/manifest")
echo "dataset: $((size0 >> 20)) MiB apparent, $((disk0 >> 20)) MiB on disk, $nfiles files"

raw=$work/raw.tsv
printf 'run\ttarget\ttool\tstep\twall_s\tcpu_s\tsrv_cpu_s\trss_kib\trepo_bytes\n' > "$raw"

# measure RUN TARGET TOOL STEP SERVERDIR SERVERPID CMD...: run CMD under
# GNU time, record a row.
measure() {
  local run=$1 target=$2 tool=$3 step=$4 sdir=$5 spid=$6
  shift 6
  local tf=$work/time.$target.$tool.$step log=$work/log.$target.$tool.$step
  dropcaches
  local s0 s1
  s0=$(srvcpu "$spid")
  if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" -- "$@" > "$log" 2>&1; then
    echo "remote.sh: $target $tool $step failed (run $run): $*" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  s1=$(srvcpu "$spid")
  local wall user sys rss repobytes scpu
  read -r wall user sys rss < <(tail -1 "$tf")
  repobytes=$(du -sb "$sdir" | cut -f1)
  scpu=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$target" "$tool" "$step" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$scpu" "$rss" "$repobytes" >> "$raw"
  printf '  %-4s %-7s %-9s wall %7.2f s  cpu %6.2f s  server cpu %6.2f s  rss %5d MiB  repo %6d MiB\n' \
    "$target" "$tool" "$step" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$scpu" \
    $((rss >> 10)) $((repobytes >> 20))
}

# restored DEST: where the data directory landed in a restore (gobak and
# borg store the relative path "data", restic the absolute one).
restored() {
  if [ -d "$1/data" ]; then echo "$1/data"; else echo "$1$data"; fi
}

run_tool() {
  local run=$1 target=$2 tool=$3
  local dest=$work/restore-$tool sdir spid repo
  case $target in
    sftp)
      sdir=$srv/sftp/repo-$tool spid=$sshd_pid
      case $tool in
        gobak) repo=sftp://root@127.0.0.1:$sshd_port$sdir ;;
        borg) repo=ssh://root@127.0.0.1:$sshd_port$sdir ;;
        restic) repo=sftp:root@127.0.0.1:$sdir ;;
      esac ;;
    s3)
      sdir=$srv/s3/$bucket/$tool spid=$s3_pid
      case $tool in
        gobak) repo=s3+http://127.0.0.1:$s3_port/$bucket/$tool ;;
        restic) repo=s3:http://127.0.0.1:$s3_port/$bucket/$tool ;;
        borg) return 0 ;;
      esac ;;
  esac
  rm -rf "$sdir" "$dest" "$work/cache-$tool" "$BORG_BASE_DIR" "$BORG_CONFIG_DIR" "$GOBAK_KEYS_DIR"
  mkdir -p "$dest"
  local ropt=()
  [ "$target" = sftp ] && ropt=(-o "sftp.command=$ssh_cmd -p $sshd_port root@127.0.0.1 -s sftp")
  local bk=() rs=()
  case $tool in
    gobak)
      "$gobak" init --encryption repokey "$repo" > /dev/null
      bk=("$gobak" create "$repo::NAME" data)
      rs=("$gobak" extract --destination "$dest" "$repo::a2") ;;
    borg)
      borg init -e repokey "$repo" > /dev/null 2>&1
      bk=(borg create --compression lz4 "$repo::NAME" data)
      # shellcheck disable=SC2016 # expanded by the inner bash
      rs=(bash -c 'cd "$1" && shift && exec "$@"' _ "$dest" borg extract "$repo::a2") ;;
    restic)
      restic "${ropt[@]}" init --repository-version 2 -r "$repo" > /dev/null
      bk=(restic "${ropt[@]}" -r "$repo" backup --compression auto data)
      rs=(restic "${ropt[@]}" -r "$repo" restore latest --target "$dest") ;;
  esac
  cd "$work"
  measure "$run" "$target" "$tool" first "$sdir" "$spid" "${bk[@]/NAME/a1}"
  measure "$run" "$target" "$tool" unchanged "$sdir" "$spid" "${bk[@]/NAME/a2}"
  measure "$run" "$target" "$tool" restore "$sdir" "$spid" "${rs[@]}"
  if ! gen manifest "$(restored "$dest")" | cmp -s - "$work/manifest"; then
    echo "remote.sh: RESTORE MISMATCH for $tool over $target (run $run): $(restored "$dest") differs from the source" >&2
    gen manifest "$(restored "$dest")" | diff "$work/manifest" - | head -20 >&2 || true
    exit 1
  fi
  echo "  $target $tool restore verified: $nfiles files, sha256 match"
  rm -rf "$sdir" "$dest" "$work/cache-$tool"
}

for ((run = 1; run <= runs; run++)); do
  for ((j = 0; j < ${#targetv[@]}; j++)); do
    target=${targetv[(j + run - 1) % ${#targetv[@]}]}
    order=()
    for ((i = 0; i < ${#toolv[@]}; i++)); do
      order+=("${toolv[(i + run - 1) % ${#toolv[@]}]}")
    done
    echo "== run $run of $runs, $target: ${order[*]}"
    for t in "${order[@]}"; do
      run_tool "$run" "$target" "$t"
    done
  done
done

# --- report
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$root" status --porcelain 2>/dev/null | head -1)" ] && rev+=" + uncommitted changes"
gwver=$(go version -m "$versitygw" 2>/dev/null | awk '$1 == "mod" { print $3; exit }')
{
  echo "# bench/remote/remote.sh --runs $runs --size $size --seed $seed --targets $targets --tools $tools"
  echo "date: $date_start to $(date -u '+%T UTC') ($(((SECONDS - t_start) / 60)) min); machine: nproc $(nproc), $cpu, RAM $ram, $(uname -sr)"
  echo "shared machine: other work may have been running; load average (1/5/15 min) at start $load_start, at end $load_end"
  echo "versions: gobak $rev (built from $root), $(borg --version), $(restic version | cut -d' ' -f1-2), $(go version | cut -d' ' -f3),"
  echo "  $(ssh -V 2>&1 | cut -d, -f1) (client and server), versitygw ${gwver:-unknown} (posix backend)"
  echo "dataset: bench/compare/gendata, $((size0 >> 20)) MiB apparent ($((disk0 >> 20)) MiB on disk, holes in disk.img), $nfiles files"
  echo "servers: sshd and versitygw on 127.0.0.1 of this machine (no network latency or bandwidth limit: this measures"
  echo "  protocol and CPU overhead, not a WAN); ssh default cipher; every tool uses the same ssh command line"
  echo "settings: gobak init --encryption repokey (default lz4); borg init -e repokey, create --compression lz4;"
  echo "  restic init --repository-version 2, backup --compression auto (restic 0.14 has no lz4). Restores are not sparse."
  echo "steps: first backup, unchanged backup, full restore of the second archive (sha256 of every file checked: all matched)"
  echo "sync before every measured step; page cache dropped too: $dropped"
  echo "CPU s: the client (user+sys, with its ssh child); server CPU s: sshd (its sessions, sftp-server, borg serve) or"
  echo "  versitygw during the step; repo MiB: du -sb of the server-side directory after the step"
  echo "gobak/best: gobak's wall time over the fastest other tool's on the same target in the same run, median over runs"
  python3 - "$raw" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
steps = ["first", "unchanged", "restore"]
med = lambda xs: statistics.median(xs) if xs else float("nan")
def sel(target, tool, step, key):
    return [float(r[key]) for r in rows if r["target"] == target and r["tool"] == tool and r["step"] == step]
def wall(run, target, tool, step):
    for r in rows:
        if r["run"] == run and r["target"] == target and r["tool"] == tool and r["step"] == step:
            return float(r["wall_s"])
runs = sorted({r["run"] for r in rows}, key=int)
titles = {"sftp": "SFTP / ssh (sshd on 127.0.0.1)", "s3": "S3 (versitygw on 127.0.0.1)"}
for target in [g for g in ["sftp", "s3"] if any(r["target"] == g for r in rows)]:
    tools = [t for t in ["gobak", "borg", "restic"] if any(r["target"] == target and r["tool"] == t for r in rows)]
    others = [t for t in tools if t != "gobak"]
    ratio = {}
    if "gobak" in tools and others:
        for s in steps:
            rs = []
            for run in runs:
                g = wall(run, target, "gobak", s)
                o = [w for w in (wall(run, target, t, s) for t in others) if w is not None]
                if g is not None and o and min(o) > 0:
                    rs.append(g / min(o))
            if rs:
                ratio[s] = med(rs)
    print()
    print(f"## {titles[target]}")
    print()
    print("| step | tool | wall s | CPU s | server CPU s | peak RSS MiB | repo MiB | gobak/best wall |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        for t in tools:
            w, c, sc = med(sel(target, t, s, "wall_s")), med(sel(target, t, s, "cpu_s")), med(sel(target, t, s, "srv_cpu_s"))
            m, repo = med(sel(target, t, s, "rss_kib")) / 1024, med(sel(target, t, s, "repo_bytes"))
            rt = f"{ratio[s]:.2f}" if t == "gobak" and s in ratio else ""
            print(f"| {s} | {t} | {w:.2f} | {c:.2f} | {sc:.2f} | {m:.0f} | {repo / 2**20:.0f} | {rt} |")
        if target == "s3":
            print(f"| {s} | borg | - | - | - | - | - | (borg has no S3 backend) |")
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
