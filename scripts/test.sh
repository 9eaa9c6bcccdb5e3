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
# Wall time of each phase, printed in a table at the end: phase NAME COMMAND... runs COMMAND and
# records how long it took.
phases=()
phase() {
  local name=$1 t0
  shift
  t0=$(date +%s)
  "$@"
  phases+=("$(printf '%-28s %5d s' "$name" $(($(date +%s) - t0)))")
}

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
phase format scripts/format.sh --check

echo "== build (release, -Werror)"
# Unity builds (SEEDSCOPE_UNITY, CMakeLists.txt): a cold build of the suite takes half the time.
phase "build (release)" scripts/build.sh build -DSEEDSCOPE_UNITY=ON
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
phase "ctest (release)" run_suite build release

if [ "${SEEDSCOPE_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (ASan+UBSan)"
  phase "build (ASan+UBSan)" scripts/build.sh build-asan -DSEEDSCOPE_UNITY=ON \
    -DSEEDSCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DSEEDSCOPE_BENCH=OFF # the release build above compiles the benchmarks
  echo "== tests under ASan+UBSan"
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  phase "ctest (ASan+UBSan)" run_suite build-asan "ASan+UBSan"
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

echo "== fuzzers (clang, libFuzzer, ASan+UBSan)"
fuzz_times=$(mktemp)
SEEDSCOPE_PHASE_TIMES="$fuzz_times" scripts/fuzz.sh # SEEDSCOPE_FUZZ_SECONDS each (default 15)
mapfile -t -O "${#phases[@]}" phases <"$fuzz_times"
rm -f "$fuzz_times"

echo "== test cases run"
for line in "${census[@]}"; do echo "  $line"; done
echo "== wall time per phase"
for line in "${phases[@]}"; do echo "  $line"; done
echo "== test suite done in $(( $(date +%s) - start )) s"
