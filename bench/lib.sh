# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034 # name, root, work, keep, drop, builds are set by the caller; gobak is used by it
# lib.sh: setup shared by bench/compare/compare.sh and bench/scale/scale.sh.
# Source it after setting: name (for messages), root, work, keep, drop, and
# builds (a list of "output-name ./package" pairs besides gobak). It
# installs the missing tools, builds, exports each tool's passphrase and
# cache locations inside $work, arranges cleanup of $work on exit (set
# failed=0 once the run succeeded), and defines dropcaches.

failed=1
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "work dir kept: $work"
  elif [ "$failed" = 1 ]; then
    echo "failed: work dir kept for inspection: $work (remove it by hand)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

missing=()
command -v borg >/dev/null || missing+=(borgbackup)
command -v restic >/dev/null || missing+=(restic)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "$name: missing ${missing[*]}; run as root to install them" >&2; exit 2; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null || { echo "$name: python3 is needed for the report" >&2; exit 2; }

# build, with retries: other people may edit the tree while we benchmark.
build() {
  local try i
  for try in 1 2 3 4 5; do
    local ok=1
    (cd "$root" && go build -o "$work/gobak" ./cmd/gobak) || ok=0
    for ((i = 0; ok && i < ${#builds[@]}; i += 2)); do
      (cd "$root" && go build -o "$work/${builds[i]}" "${builds[i + 1]}") || ok=0
    done
    [ "$ok" = 1 ] && return 0
    echo "build failed (try $try), retrying in 60 s" >&2
    sleep 60
  done
  return 1
}
build
gobak=$work/gobak

export GOBAK_PASSPHRASE=bench BORG_PASSPHRASE=bench RESTIC_PASSWORD=bench
export GOBAK_TEST_FAST_KDF=0
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export BORG_BASE_DIR=$work/borgbase BORG_CACHE_DIR=$work/cache-borg BORG_CONFIG_DIR=$work/borgconf
export GOBAK_CACHE_DIR=$work/cache-gobak RESTIC_CACHE_DIR=$work/cache-restic
export GOBAK_KEYS_DIR=$work/gobakkeys

dropped=no
if [ "$drop" = 1 ] && sync && (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
  dropped=yes
fi
# dropcaches: before every measured step, flush the previous steps' dirty
# pages (always: else their writeback is charged to the next step) and
# drop the page cache (when permitted and not --no-drop-caches).
dropcaches() {
  sync
  if [ "$dropped" = yes ]; then
    echo 3 > /proc/sys/vm/drop_caches
  fi
}
