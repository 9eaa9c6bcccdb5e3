#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh DIR [cmake options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/seedscope-ccache}
export CCACHE_BASEDIR=$PWD
cmake -S . -B "$dir" -G Ninja -DSEEDSCOPE_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
