#!/usr/bin/env bash
# The main job: install what is missing, build, and run seedscope's demo.
# Extra arguments are passed to `seedscope demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
exec build/crawler/seedscope demo "$@"
