#!/usr/bin/env bash
# Show what gobak can do today, on a throwaway repository in a temporary
# directory that is removed afterwards. `make example` runs it.
# Usage: scripts/example.sh BIN    (BIN: the gobak binary, e.g. bin/gobak)
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BIN" >&2
  exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ ! -x "$bin" ]; then
  echo "$0: $bin is not an executable; run 'make build' first" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gobak-example.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Everything stays inside $work: repository, cache and keys.
export GOBAK_CACHE_DIR="$work/cache"
export GOBAK_KEYS_DIR="$work/keys"
# A passphrase in the environment is for examples and scripts; on a
# terminal gobak asks for it instead (or use GOBAK_PASSCOMMAND).
export GOBAK_PASSPHRASE="correct horse battery staple"
repo="$work/repo"

bold='' plain=''
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "${*:2}"; }
run() { step "$@"; "${@:2}"; }

run "create an encrypted repository" "$bin" init --compression zstd,3 "$repo"
run "show its settings and statistics" "$bin" info "$repo"
run "the same as borg-style JSON" "$bin" info --json "$repo"
run "export the key (keep this copy and the passphrase safe!)" "$bin" key export "$repo" "$work/repo.key"
echo "(key file: $(wc -c <"$work/repo.key") bytes, $(grep -o '"kdf": *"[a-z0-9]*"' "$work/repo.key"))"
run "remove stale locks (there are none)" "$bin" break-lock "$repo"

step "a wrong passphrase is refused with exit code 2" "GOBAK_PASSPHRASE=wrong $bin info $repo"
set +e
GOBAK_PASSPHRASE=wrong "$bin" info "$repo"
echo "(exit code $?)"
set -e

# Back up a small sample tree (made here, so the example is the same on
# every machine), list it, back it up again unchanged, and restore it.
src="$work/sample"
mkdir -p "$src/etc/app" "$src/home/deploy"
printf 'listen 8080\n' > "$src/etc/app/config.yml"
head -c 300000 /dev/urandom > "$src/home/deploy/data.bin"
ln -s ../../etc/app/config.yml "$src/home/deploy/config-link"
sleep 1.1 # files changed within a second of a backup are read again by the next one
run "back up the sample tree" "$bin" create --stats "$repo::sample-{now:%Y-%m-%d_%H:%M:%S}" "$src"
run "list the archives" "$bin" list "$repo"
archive=$("$bin" list --format '{archive}{NL}' "$repo" | head -1)
run "list the files of $archive" "$bin" list "$repo::$archive"
run "back up again: unchanged files are not read" "$bin" create --stats "$repo::again-{now:%Y-%m-%d_%H:%M:%S}" "$src"
mkdir "$work/restore"
run "restore it into $work/restore" "$bin" extract --destination "$work/restore" "$repo::$archive"
step "compare" "diff -r --no-dereference $src $work/restore${src}"
diff -r --no-dereference "$src" "$work/restore$src"
echo "restored tree is identical"
run "what changed between the two archives (nothing)" "$bin" diff "$repo::$archive" "$("$bin" list --format '{archive}{NL}' "$repo" | tail -1)"
run "repository statistics" "$bin" info "$repo"

printf '\nDone: created a repository, backed up, listed, restored and compared a tree, exported the key\n'
printf 'in %s, which is now removed.\n' "$work"
