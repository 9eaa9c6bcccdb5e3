#!/usr/bin/env bash
# The whole test suite: install what is missing, build (warnings are errors), run every test,
# then the same tests under ASan+UBSan, then each fuzz target for a bounded time. The format
# check (scripts/format.sh --check) comes first.
# SEEDSCOPE_FUZZ_SECONDS (default 15) bounds each fuzzer (scripts/fuzz.sh runs them, two at a
# time); SEEDSCOPE_SKIP_ASAN=1 skips the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
start=$(date +%s)

# The test vectors live in ../shared/testdata beside the repository. A clone made elsewhere
# (a scratch directory) finds them beside the repository it was cloned from.
if [ -z "${SEEDSCOPE_TESTDATA:-}" ] && [ ! -d ../shared/testdata ]; then
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ -n "$origin" ] && [ -d "$origin/../shared/testdata" ]; then
    SEEDSCOPE_TESTDATA=$(cd "$origin/../shared/testdata" && pwd)
    export SEEDSCOPE_TESTDATA
  else
    echo "test vectors not found: expected ../shared/testdata (or set SEEDSCOPE_TESTDATA)" >&2
    exit 1
  fi
fi

echo "== format"
scripts/format.sh --check

echo "== build (release, -Werror)"
scripts/build.sh build
census=()
# Runs one build's CTest suite, then checks that every compiled test case ran exactly once.
run_suite() {
  local dir=$1 label=$2 ran
  ran=$(mktemp)
  (cd "$dir" && SEEDSCOPE_TESTS_RAN="$ran" ctest --output-on-failure -j 2 --timeout 600)
  if ! scripts/test_census.py "$dir" "$ran" "$label" >"$ran.census"; then
    cat "$ran.census"
    echo "the $label pass did not run every compiled test case exactly once" >&2
    exit 1
  fi
  census+=("$(head -1 "$ran.census")")
  rm -f "$ran" "$ran.census"
}

echo "== tests"
run_suite build release

if [ "${SEEDSCOPE_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan+UBSan)"
  scripts/build.sh build-asan -DSEEDSCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DSEEDSCOPE_BENCH=OFF # the release build above compiles the benchmarks
  echo "== tests under ASan+UBSan"
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  run_suite build-asan "ASan+UBSan"
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

echo "== fuzzers (clang, libFuzzer, ASan+UBSan)"
scripts/fuzz.sh # SEEDSCOPE_FUZZ_SECONDS each (default 15)

echo "== test cases run"
for line in "${census[@]}"; do echo "  $line"; done
echo "== test suite done in $(( $(date +%s) - start )) s"
