#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh DIR [cmake options...]
# BUILD_TARGETS="a b" builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/seedscope-ccache}
export CCACHE_BASEDIR=$PWD
cmake -S . -B "$dir" -G Ninja -DSEEDSCOPE_WERROR=ON "$@" >/dev/null
log=$(mktemp)
# shellcheck disable=SC2086
if ! cmake --build "$dir" -j "$(nproc)" ${BUILD_TARGETS:+--target $BUILD_TARGETS} >"$log" 2>&1; then
  grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | tail -150
  rm -f "$log"
  echo "build of $dir failed" >&2
  exit 1
fi
rm -f "$log"
echo "built $dir"
