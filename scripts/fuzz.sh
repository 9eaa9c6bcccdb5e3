#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, in build-fuzz) and runs every one of them
# for SECONDS (default: $SEEDSCOPE_FUZZ_SECONDS, else 15), starting from its committed seed
# corpus (tests/fuzz/corpus/<target>/, copied: the committed corpus is not changed), then
# prints a table: target, executions, exec/s, corpus size (inputs and bytes at the end), result.
# Runs SEEDSCOPE_FUZZ_JOBS targets at once (default: 2, or 1 on a single core). A crash, leak,
# timeout or invariant failure is saved as build-fuzz/fuzz-artifacts/<target>/crash-...; the
# script then exits 1 (after running every target), with the end of that fuzzer's log.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${SEEDSCOPE_FUZZ_SECONDS:-15}}
shift || true
if [ $# -gt 0 ]; then
  targets="$*"
else
  targets=$(for f in tests/fuzz/*_fuzz.cpp; do basename "$f" .cpp; done | tr '\n' ' ')
fi
jobs=${SEEDSCOPE_FUZZ_JOBS:-$(($(nproc) > 1 ? 2 : 1))}

# With SEEDSCOPE_PHASE_TIMES=<file>, the wall time of the build and of the fuzzing is appended
# to that file (scripts/test.sh prints it in its table of phases).
t0=$(date +%s)
CC=clang CXX=clang++ BUILD_TARGETS="$targets" scripts/build.sh build-fuzz \
  -DSEEDSCOPE_FUZZ=ON -DSEEDSCOPE_SANITIZE=ON -DSEEDSCOPE_UNITY=ON
t1=$(date +%s)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=build-fuzz/fuzz-artifacts

# One fuzzer: its own copy of the corpus; the log and the exit status in $work.
run_one() {
  local name=$1 corpus="$work/$1.corpus"
  mkdir -p "$corpus" "$artifacts/$name"
  cp -r "tests/fuzz/corpus/$name/." "$corpus/" 2>/dev/null || true
  local rc=0
  "build-fuzz/tests/fuzz/$name" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$name/" "$corpus" \
    >"$work/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$name.rc"
}

echo "== fuzzing each target for ${secs}s ($jobs at a time)"
running=0
for name in $targets; do
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
if [ -n "${SEEDSCOPE_PHASE_TIMES:-}" ]; then
  printf '%-28s %5d s\n' "fuzz build" $((t1 - t0)) "fuzz run" $(($(date +%s) - t1)) \
    >>"$SEEDSCOPE_PHASE_TIMES"
fi

stat() { grep -m1 "^stat::$2:" "$work/$1.log" | awk '{print $2}' || true; }
failed=()
printf '%-24s %12s %9s %18s  %s\n' target executions exec/s corpus result
for name in $targets; do
  rc=$(cat "$work/$name.rc")
  execs=$(stat "$name" number_of_executed_units)
  rate=$(stat "$name" average_exec_per_sec)
  files=$(find "$work/$name.corpus" -type f | wc -l)
  bytes=$(du -sb "$work/$name.corpus" | cut -f1)
  if [ "$rc" = 0 ]; then
    result=ok
  else
    artifact=$(ls -t "$artifacts/$name" 2>/dev/null | head -1)
    result="FAILED (exit $rc${artifact:+, $artifacts/$name/$artifact})"
    failed+=("$name")
  fi
  printf '%-24s %12s %9s %18s  %s\n' "$name" "${execs:-?}" "${rate:-?}" \
    "$files/${bytes}B" "$result"
done
for name in "${failed[@]}"; do
  echo "---- $name (last 40 lines of its log)"
  tail -40 "$work/$name.log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]}" >&2
  exit 1
fi
