#!/usr/bin/env bash
# Formats every C++ file of the repository with .clang-format (clang-format 14, Debian 12).
# --check: changes nothing; lists the files that differ and fails if there are any.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-fix}
case "$mode" in
  fix | --check) ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac
command -v clang-format >/dev/null || { echo "clang-format not installed: run scripts/deps.sh" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [ "$mode" = fix ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -ne 0 ]; then
  printf '%s\n' "${bad[@]}" >&2
  echo "${#bad[@]} of ${#files[@]} files are not formatted as .clang-format says; scripts/format.sh fixes them" >&2
  exit 1
fi
echo "format: all ${#files[@]} C++ files match .clang-format"
